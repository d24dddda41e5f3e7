import * as http from "node:http";
import type { FastPath } from "../fast-path/fast-path.js";
import { serveRequest } from "../fast-path/h1.js";
import { failStream, serveStream } from "../fast-path/h2-stream.js";
import type { Logger } from "../logger.js";
import type { Dispatcher, ErrorBody, RequestHandler } from "../transport/http-handler.js";

export interface DispatcherOptions {
  /** The unary calls and gRPC server streams it can serve; undefined with FAST_PATH=off. */
  readonly fastPath: FastPath | undefined;
  /**
   * Everything else: connect-node's adapter for the other calls, then the
   * REST routes (server/rest/), then the page; under the probes, /metrics
   * and CORS, each wrapping it once.
   */
  readonly handler: RequestHandler;
  /** How the listener's refusals read on the REST routes' paths (a google.rpc.Status). */
  readonly errorBody?: ErrorBody;
  readonly logger: Logger;
}

/**
 * The one way in from the listener: each request, of either HTTP version,
 * is planned once by the fast path and served by it, or given whole to
 * `handler` (RPCs for connect-node, REST routes, the page). The fast path declines what the wrappers of `handler` exist
 * for (requests with an Origin when CORS is on, the page, probes and
 * /metrics), and answers a Connect GET's If-None-Match itself, as the RPC
 * adapter does for connect-node's answers.
 */
export function createDispatcher({ fastPath, handler, errorBody, logger }: DispatcherOptions): Dispatcher {
  if (fastPath === undefined) return { request: handler, stream: () => false, errorBody };
  return {
    errorBody,
    request(req, res) {
      // HTTP/2 requests come here from the compatibility layer, which the fast path already declined.
      if (req instanceof http.IncomingMessage && res instanceof http.ServerResponse && serveRequest(fastPath, req, res, logger)) return;
      handler(req, res);
    },
    stream(stream, headers) {
      const plan = fastPath.plan(headers[":method"], headers[":path"] ?? "", headers, true);
      if (plan === undefined) return false;
      serveStream(fastPath, plan, stream, headers).catch((error: unknown) => failStream(stream, plan, headers, error, logger));
      return true;
    },
  };
}
