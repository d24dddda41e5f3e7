import type * as http from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Logger } from "../logger.js";
import { failRequest } from "../transport/contain-failures.js";
import { drainRequest, uploadDrainLimits } from "../transport/drain-request.js";
import type { Exchange, FastPath } from "./fast-path.js";
import { readBody, replay } from "./read-body.js";

/**
 * The fast path for an HTTP/1.1 request: a unary call it plans is served
 * here, and true returned; else (and for a body announced over
 * READ_MAX_BYTES, which connect-node refuses as it arrives) false, and the
 * request is left untouched for connect-node.
 */
export function serveRequest(fast: FastPath, req: http.IncomingMessage, res: http.ServerResponse, logger: Logger): boolean {
  const plan = fast.plan(req.method, req.url ?? "", req.headers, false);
  if (plan === undefined) return false;
  // A body announced over the limit: connect-node refuses it without reading it.
  const announced = req.headers["content-length"];
  if (announced !== undefined && !(Number(announced) <= plan.bodyCap)) return false;
  const started = performance.now();
  const signal = fast.begin(plan);
  const onClose = () => {
    if (!res.writableFinished)
      signal.abort(new ConnectError("the client closed the connection", Code.Canceled, undefined, undefined, req.errored));
  };
  res.on("close", onClose);
  const exchange: Exchange = {
    httpVersion: req.httpVersion,
    headers: req.headers,
    scheme: "encrypted" in req.socket && req.socket.encrypted === true ? "https" : "http",
    authority: req.headers.host ?? "",
    target: req.url ?? "",
    remoteAddress: req.socket.remoteAddress,
    connection: req.socket,
  };
  void readBody(req, plan.bodyCap, fast.options.uploads.open(req.socket, req.socket.remoteAddress, signal))
    .then(async (body) => {
      const result = await fast.serve(plan, exchange, body.bytes, signal, started, () => replay(body.chunks, body.rest));
      if (result === undefined || res.destroyed) return;
      if (result.kind === "universal") {
        // Answered before the body was read to its end: read the rest first,
        // else connect-node closes the connection (see drainRequest).
        const ended = await drainRequest(req, uploadDrainLimits(fast.options.readMaxBytes));
        // An upload past the drain's limits is cut: the connection cannot carry another request.
        if (!ended) res.shouldKeepAlive = false;
        await universalResponseToNodeResponse(result.response, res).catch(() => {});
        return;
      }
      const { status, headers, body: answer } = result.answer;
      res.writeHead(status, headers);
      res.end(answer);
    })
    .catch((error: unknown) => failRequest(req, res, error, logger))
    .finally(() => {
      res.off("close", onClose);
      fast.end(signal);
    });
  return true;
}
