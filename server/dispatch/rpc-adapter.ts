import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { notModifiedResponse } from "../interceptors/caching.js";
import type { Logger } from "../logger.js";
import { BodyCall, budgetedBody, isEnveloped } from "../transport/budgeted-body.js";
import { connectionOf, type NodeRequest, type NodeResponse } from "../transport/http-handler.js";
import type { UploadBudget } from "../transport/upload-budget.js";

export interface RpcAdapterOptions {
  /** One per procedure and path: each answers every protocol of its procedure. */
  readonly handlers: readonly UniversalHandler[];
  /** The values a call starts with, from its Node request. */
  readonly contextValues: (req: NodeRequest) => ContextValues;
  /** Answers a request for a path no procedure serves. */
  readonly fallback: (req: NodeRequest, res: NodeResponse) => void;
  /** What request bodies still arriving may hold, and for how long (shared with the fast path and REST). */
  readonly uploads: UploadBudget;
  readonly logger: Logger;
}

/**
 * Serves connect-es handlers to Node's HTTP servers, as connect-node's
 * connectNodeAdapter does, but with the handlers the server built (each
 * wrapped by our own code) rather than the ones a router holds: the path
 * picks the handler, the query is ignored for that, a GET whose
 * If-None-Match names the answer's ETag gets 304, the body counts against
 * the upload budget as it arrives, and a failure after the answer began is
 * logged.
 */
export function rpcAdapter({
  handlers,
  contextValues,
  fallback,
  uploads,
  logger,
}: RpcAdapterOptions): (req: NodeRequest, res: NodeResponse) => void {
  const paths = new Map<string, UniversalHandler>();
  for (const handler of handlers) paths.set(handler.requestPath, handler);
  return (req, res) => {
    const handler = paths.get(req.url?.split("?", 1)[0] ?? "");
    if (handler === undefined) {
      fallback(req, res);
      return;
    }
    const ifNoneMatch = req.method === "GET" ? req.headers["if-none-match"] : undefined;
    const request = universalRequestFromNodeRequest(req, res, undefined, contextValues(req));
    const upload = uploads.open(connectionOf(req), req.socket.remoteAddress, new BodyCall());
    const body = request.body as AsyncIterable<Uint8Array>;
    handler({ ...request, body: budgetedBody(body, upload, isEnveloped(req.headers["content-type"])) })
      .then((answer) =>
        universalResponseToNodeResponse(typeof ifNoneMatch === "string" ? notModifiedResponse(ifNoneMatch, answer) : answer, res),
      )
      .catch((reason: unknown) => {
        // The client left: nothing to answer, nothing wrong.
        if (ConnectError.from(reason).code === Code.Aborted) return;
        logger.error({ err: reason, procedure: handler.requestPath }, "answering a call failed after it began");
        // An answer cut midway must end, not leave the client waiting for the rest (an HTTP/2 stream is reset, an HTTP/1.1 connection closed).
        if (!res.writableEnded) res.destroy();
      })
      // A body the call never read to its end (a refused call, a GET) stops counting with the answer.
      .finally(() => upload.close());
  };
}
