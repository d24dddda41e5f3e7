import type { RequestHandler } from "../app.js";

/**
 * Answers for requests that never reach an RPC handler, in the form each
 * protocol's clients understand: gRPC and gRPC-Web clients read the status
 * from `grpc-status` (a "trailers-only" response), everyone else reads HTTP.
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
    res.writeHead(200, {
      "content-type": req.headers["content-type"],
      "grpc-status": String(grpcUnimplemented),
      "grpc-message": encodeURIComponent(`no such method: ${req.url ?? ""}`),
    });
    res.end();
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
  const contentType = req.headers["content-type"] ?? "";
  if (req.httpVersionMajor !== 2 || !isGrpc(req) || contentType.startsWith("application/grpc-web")) return false;
  if (req.headers.te === "trailers") return false;
  res.writeHead(400, {
    "content-type": contentType,
    "grpc-status": String(grpcInvalidArgument),
    "grpc-message": encodeURIComponent('gRPC requests must carry the header "te: trailers"'),
  });
  res.end();
  return true;
}
