import type { OutgoingHttpHeaders } from "node:http";
import type { RequestHandler } from "../app.js";

/**
 * Re-encodes the `grpc-message` of gRPC answers the way the gRPC spec writes
 * it: printable ASCII as is, only `%` and other bytes percent-encoded.
 * connect-node percent-encodes like encodeURIComponent (":" becomes "%3A"),
 * which is valid, but @grpc/grpc-js decodes with decodeURI, which leaves
 * "%3A", "%2C" and "%2F" in the message its users see. Spelled the spec's
 * way, every client reads the same message.
 */
export function withPlainGrpcMessages(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    const contentType = req.headers["content-type"] ?? "";
    if (contentType.startsWith("application/grpc") && !contentType.startsWith("application/grpc-web")) {
      const response = res as {
        writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
        addTrailers(trailers: OutgoingHttpHeaders): void;
      };
      const writeHead = response.writeHead.bind(res);
      const addTrailers = response.addTrailers.bind(res);
      // Trailers-only answers (an error before any message) carry it in the headers.
      response.writeHead = (status, headers) => writeHead(status, headers && reencode(headers));
      response.addTrailers = (trailers) => addTrailers(reencode(trailers));
    }
    handler(req, res);
  };
}

function reencode(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const message = headers["grpc-message"];
  if (typeof message !== "string") return headers;
  return { ...headers, "grpc-message": encodeGrpcMessage(decodeOrKeep(message)) };
}

function decodeOrKeep(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}

/** Percent-encodes the UTF-8 bytes outside 0x20-0x7E, and "%". */
export function encodeGrpcMessage(message: string): string {
  let encoded = "";
  for (const byte of Buffer.from(message, "utf8")) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}
