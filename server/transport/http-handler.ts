import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Code } from "@connectrpc/connect";
import type { connectNodeAdapter, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";

/**
 * A handler for both HTTP/1.1 and HTTP/2 requests (what connect-node returns).
 * It lives in this leaf, apart from the app that builds one, so the listener
 * and every wrapper of a handler can name it without importing the app.
 */
export type RequestHandler = ReturnType<typeof connectNodeAdapter>;

/** A Node request, from node:http, node:https or node:http2 (connect-node's type, which it does not export). */
export type NodeRequest = Parameters<typeof universalRequestFromNodeRequest>[0];

/** The connection a request came on: for HTTP/2 the session (its `socket` is a proxy made per stream), else the socket. */
export function connectionOf(req: NodeRequest): object {
  return "stream" in req ? (req.stream.session ?? req.socket) : req.socket;
}
/** A Node response, from node:http, node:https or node:http2. */
export type NodeResponse = Parameters<typeof universalResponseToNodeResponse>[1];

/**
 * Where the listener hands every request, once it has screened it (host,
 * target, header sizes): the one way in, for both HTTP versions. The
 * dispatcher serves it on the fast path or gives it to connect-node, the
 * page, the probes and /metrics, with CORS and HTTP caching applied once.
 */
export interface Dispatcher {
  /** An HTTP/1.1 request, or an HTTP/2 stream that Node's compatibility layer made into a request. */
  readonly request: RequestHandler;
  /**
   * An HTTP/2 stream, as the session received it: true when the dispatcher
   * serves it on the stream itself; false leaves it to the listener, which
   * turns it into a request (Node's compatibility API) for `request`.
   */
  stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean;
  /** How a refusal the listener answers reads for a request to a path (see ErrorBody). */
  readonly errorBody?: ErrorBody;
}

/**
 * The body of a refusal answered before the request reaches its handler,
 * for a path whose protocol has an error body of its own (a REST route's:
 * a google.rpc.Status in JSON); undefined leaves the refusal in the form
 * of the request's RPC protocol (see refuse in grpc-answers.ts).
 */
export type ErrorBody = (path: string, code: Code, message: string) => string | undefined;
