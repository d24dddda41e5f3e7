import * as http2 from "node:http2";
import type { RequestHandler } from "./http-handler.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];

/** gRPC or gRPC-Web: both start their content type with application/grpc. */
export function isGrpc(req: Request): boolean {
  return req.method === "POST" && (req.headers["content-type"] ?? "").startsWith("application/grpc");
}

export function isGrpcWeb(req: Request): boolean {
  return (req.headers["content-type"] ?? "").startsWith("application/grpc-web");
}

/**
 * The gRPC spec's percent-encoding: only bytes outside printable ASCII, and
 * "%" itself. Encoding more (as encodeURIComponent does) is legal, but
 * grpc-js decodes with decodeURI, which leaves "%2C", "%3A" and the like
 * undecoded, so its users would read "got%2C 11".
 */
export function encodeGrpcMessage(text: string): string {
  let encoded = "";
  for (const byte of Buffer.from(text, "utf8")) {
    encoded +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

/**
 * connect-es writes `grpc-message` trailers with encodeURIComponent; rewrite
 * them to the spec's narrower encoding (see encodeGrpcMessage) on gRPC
 * answers over HTTP/2, so every client stack reads the same message.
 */
export function normalizeGrpcMessageTrailers(req: Request, res: Response): void {
  if (!(res instanceof http2.Http2ServerResponse) || !isGrpc(req) || isGrpcWeb(req)) return;
  const addTrailers = res.addTrailers.bind(res);
  res.addTrailers = (trailers) => {
    const message = trailers["grpc-message"];
    if (typeof message === "string") {
      let decoded: string | undefined;
      try {
        decoded = decodeURIComponent(message);
      } catch {
        // Not percent-encoded by connect-es after all: leave it as it is.
      }
      if (decoded !== undefined) trailers = { ...trailers, "grpc-message": encodeGrpcMessage(decoded) };
    }
    addTrailers(trailers);
  };
}
