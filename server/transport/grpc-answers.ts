import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { codeToHttpStatus, codeToString } from "@connectrpc/connect/protocol-connect";
import { encodeGrpcMessage, isGrpc, isGrpcWeb } from "./grpc-message.js";
import type { ErrorBody, RequestHandler } from "./http-handler.js";

/**
 * Answers for requests that never reach an RPC handler, in the form each
 * protocol's clients understand: gRPC and gRPC-Web clients read the status
 * from `grpc-status` (a "trailers-only" answer), everyone else reads HTTP.
 */

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];

/** No route serves this path: UNIMPLEMENTED for gRPC clients, a plain 404 for everyone else. */
export function notFound(req: Request, res: Response): void {
  if (isGrpc(req)) {
    answerTrailersOnly(req, res, 200, Code.Unimplemented, `no such method: ${req.url ?? ""}`);
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
  answerTrailersOnly(req, res, 400, Code.InvalidArgument, 'gRPC requests must carry the header "te: trailers"');
  return true;
}

/**
 * Refuses a request before any RPC handler sees it: gRPC and gRPC-Web
 * clients get `grpc-status` and `grpc-message`, a REST route's clients the
 * body `errorBody` gives its path (a google.rpc.Status), everyone else
 * (Connect clients, curl, browsers) a Connect error body, which people can
 * read too.
 */
export function refuse(req: Request, res: Response, httpStatus: number, code: Code, message: string, errorBody?: ErrorBody): void {
  if (isGrpc(req)) {
    answerTrailersOnly(req, res, httpStatus, code, message);
    return;
  }
  const target = req.url ?? "";
  const query = target.indexOf("?");
  const body = errorBody?.(query < 0 ? target : target.slice(0, query), code, message);
  if (body !== undefined) {
    res.writeHead(httpStatus, { "content-type": "application/json" });
    res.end(body);
    return;
  }
  // A Connect error body's code must agree with the HTTP status (429 for
  // resource_exhausted); a plain HTTP refusal such as 431 gets plain text, as
  // Node's own HTTP/1.1 parser sends it.
  if (codeToHttpStatus(code) !== httpStatus) {
    res.writeHead(httpStatus, { "content-type": "text/plain; charset=utf-8" });
    res.end(`${message}\n`);
    return;
  }
  res.writeHead(httpStatus, { "content-type": "application/json" });
  res.end(JSON.stringify({ code: codeToString(code), message }));
}

/**
 * One HEADERS frame that ends the stream. Writing the head and then ending
 * the response would send an empty DATA frame to end it, and gRPC clients
 * take headers not ending the stream for the start of a normal answer.
 */
function answerTrailersOnly(req: Request, res: Response, httpStatus: number, grpcStatus: Code, message: string): void {
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
