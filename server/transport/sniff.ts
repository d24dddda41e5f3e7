import type { Socket } from "node:net";

const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type WireProtocol = "h2" | "http/1.1";

/**
 * Reads just enough of a cleartext connection to tell HTTP/2 with prior
 * knowledge (it opens with the connection preface) from HTTP/1.1, then puts
 * the bytes back so the chosen server reads the connection from its start.
 *
 * The socket stays paused: HTTP/2 takes over the socket's handle and first
 * drains what is buffered, while resuming now would emit those bytes to no one.
 * Resolves undefined when the connection ends or stays silent past the
 * timeout; the socket is then destroyed.
 */
export function sniffProtocol(socket: Socket, timeoutMs: number): Promise<WireProtocol | undefined> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(undefined), timeoutMs);

    const finish = (protocol: WireProtocol | undefined) => {
      clearTimeout(timer);
      socket.off("readable", onReadable);
      socket.off("end", onGone);
      socket.off("error", onGone);
      socket.off("close", onGone);
      if (protocol === undefined) {
        socket.destroy();
      } else if (received.length > 0) {
        socket.unshift(received);
      }
      resolve(protocol);
    };

    const onGone = () => finish(undefined);

    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        received = Buffer.concat([received, chunk]);
      }
      const compared = Math.min(received.length, http2Preface.length);
      if (!received.subarray(0, compared).equals(http2Preface.subarray(0, compared))) {
        finish("http/1.1");
      } else if (received.length >= http2Preface.length) {
        finish("h2");
      }
    };

    socket.on("readable", onReadable);
    socket.on("end", onGone);
    socket.on("error", onGone);
    socket.on("close", onGone);
  });
}
