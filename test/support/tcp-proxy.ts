import { once } from "node:events";
import * as net from "node:net";

/**
 * A TCP relay between the server and PostgreSQL that a test can cut and
 * restore, to play a database that goes away and comes back without
 * touching the real one.
 */
export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and refuses new ones (ECONNREFUSED). */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /**
   * Cuts (as `cut`) right after the first chunk a client sends that contains
   * `text` (ASCII, any case) has been passed on: the connection drops just
   * after PostgreSQL was asked something, e.g. a COMMIT whose answer never
   * comes back. Resolves once cut; stays cut until `restore`.
   */
  cutWhenSent(text: string): Promise<void>;
  /**
   * Stops relaying bytes either way while keeping every connection open, and
   * accepts new ones without relaying on them either: a network that went
   * silent rather than a server that said goodbye. `thaw` relays again.
   */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, options: { down?: boolean } = {}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  let trigger: { text: string; fire(): void } | undefined;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    if (frozen) socket.pause();
  };
  /** Like pipe, but paused while frozen and watched for the cut trigger. */
  const relay = (from: net.Socket, to: net.Socket, watch: boolean) => {
    from.on("data", (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
      if (watch && trigger !== undefined && chunk.toString("latin1").toLowerCase().includes(trigger.text)) trigger.fire();
    });
    to.on("drain", () => {
      if (!frozen) from.resume();
    });
    from.once("end", () => to.end());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    track(client);
    track(upstream);
    relay(client, upstream, true);
    relay(upstream, client, false);
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;

  const cut = async () => {
    if (!server.listening) return;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  if (options.down) await cut();

  return {
    port,
    cut,
    async restore() {
      if (server.listening) return;
      server.listen(port, "127.0.0.1");
      await once(server, "listening");
    },
    cutWhenSent(text) {
      return new Promise<void>((resolve, reject) => {
        trigger = {
          text: text.toLowerCase(),
          fire() {
            trigger = undefined;
            // After the chunk has been handed on, not instead of it.
            setImmediate(() => cut().then(resolve, reject));
          },
        };
      });
    },
    freeze() {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const socket of sockets) socket.resume();
    },
    close: cut,
  };
}
