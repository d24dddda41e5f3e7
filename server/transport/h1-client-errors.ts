import type * as http from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../logger.js";
import { ThrottledLog } from "./throttled-log.js";

/**
 * What Node's HTTP/1.1 server does with a request it cannot parse (garbage,
 * headers over the limit, headers that never finish), plus a reason in the
 * body and a log line: without this, those clients got a bare status and the
 * operator saw nothing. The lines are throttled, as a client can send such
 * requests as fast as it can connect.
 */
export function answerClientErrors(
  server: http.Server,
  limits: { maxHeaderBytes: number; headersTimeoutMs: number },
  logger: Logger,
): void {
  const refused = new ThrottledLog(logger, "info", "refused malformed HTTP/1.1 requests");
  server.on("clientError", (error: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    const gone = error.code === "ECONNRESET" || error.code === "EPIPE" || !socket.writable;
    if (gone) {
      socket.destroy();
      return;
    }
    const [status, reason] = answer(error, limits);
    refused.event({ code: error.code, status, remoteAddress: (socket as { remoteAddress?: string }).remoteAddress });
    // As Node does: answer only if no answer to an earlier request on this
    // connection is being written, which the status line would corrupt.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (inFlight === undefined || inFlight === null || !inFlight.headersSent) {
      const body = `${reason}\n`;
      socket.write(
        `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  });
}

function answer(
  error: NodeJS.ErrnoException & { reason?: string },
  limits: { maxHeaderBytes: number; headersTimeoutMs: number },
): [string, string] {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return ["431 Request Header Fields Too Large", `request headers are larger than the ${limits.maxHeaderBytes} bytes allowed`];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return ["413 Payload Too Large", "chunk extensions are too large"];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return ["408 Request Timeout", `the request headers did not arrive within ${limits.headersTimeoutMs} ms`];
    default:
      return ["400 Bad Request", `malformed HTTP/1.1 request: ${error.reason ?? error.code ?? "unreadable"}`];
  }
}
