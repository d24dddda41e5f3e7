import * as http2 from "node:http2";
import type { RequestHandler } from "../app.js";

/**
 * Answers for requests that never reach an RPC handler, in the form each
 * protocol's clients understand: gRPC and gRPC-Web clients read the status
 * from `grpc-status` (a "trailers-only" answer), everyone else reads HTTP.
 */

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];

const grpcUnimplemented = 12;
const grpcInvalidArgument = 3;

function isGrpc(req: Request): boolean {
  return req.method === "POST" && (req.headers["content-type"] ?? "").startsWith("application/grpc");
}

/** No route serves this path: UNIMPLEMENTED for gRPC clients, a plain 404 for everyone else. */
export function notFound(req: Request, res: Response): void {
  if (isGrpc(req)) {
    answerTrailersOnly(req, res, 200, grpcUnimplemented, `no such method: ${req.url ?? ""}`);
    return;
  }
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("Not Found\n");
}

/**
 * gRPC over HTTP/2 requires `te: trailers`: its absence means something
 * between client and server may drop trailers, and with them every call's
 * status. Like gRPC's reference server, refuse the call rather than risk
 * answers without a status; a non-200 status gets through any proxy, and
 * gRPC-aware clients also read the reason. Returns true when it answered.
 */
export function rejectGrpcWithoutTe(req: Request, res: Response): boolean {
  if (req.httpVersionMajor !== 2 || !isGrpc(req) || isGrpcWeb(req)) return false;
  if (req.headers.te === "trailers") return false;
  answerTrailersOnly(req, res, 400, grpcInvalidArgument, 'gRPC requests must carry the header "te: trailers"');
  return true;
}

function isGrpcWeb(req: Request): boolean {
  return (req.headers["content-type"] ?? "").startsWith("application/grpc-web");
}

/**
 * One HEADERS frame that ends the stream. Writing the head and then ending
 * the response would send an empty DATA frame to end it, and gRPC clients
 * take headers not ending the stream for the start of a normal answer.
 */
function answerTrailersOnly(req: Request, res: Response, httpStatus: number, grpcStatus: number, message: string): void {
  const headers = {
    "content-type": req.headers["content-type"],
    "grpc-status": String(grpcStatus),
    "grpc-message": encodeGrpcMessage(message),
  };
  if (res instanceof http2.Http2ServerResponse) {
    res.stream.respond({ ":status": httpStatus, ...headers }, { endStream: true });
    return;
  }
  res.writeHead(httpStatus, headers);
  res.end();
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
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
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
