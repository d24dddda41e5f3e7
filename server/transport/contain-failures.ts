import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import type { Logger } from "../logger.js";
import { refuse } from "./grpc-answers.js";
import type { ErrorBody, RequestHandler } from "./http-handler.js";
import { resetStream } from "./stream-resets.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];

/**
 * Wraps the one place requests enter the application, so that nothing a
 * request does can reach `uncaughtException` and end the process for every
 * other client: a handler that throws, or returns a promise that rejects,
 * fails only its own request. The client gets 500 (INTERNAL for gRPC) if no
 * answer was started yet, else its stream or connection is reset, since a
 * half-sent answer cannot be trusted; the failure is logged as the server's
 * fault, with what identifies the request.
 */
export function containFailures(handler: RequestHandler, logger: Logger, errorBody?: ErrorBody): RequestHandler {
  return (req, res) => {
    const fail = (error: unknown) => failRequest(req, res, error, logger, errorBody);
    try {
      // Typed as returning nothing, but a handler may be async all the same.
      const result: unknown = handler(req, res);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

/**
 * Logs a request's unexpected failure as the server's fault and answers 500
 * (INTERNAL; in `errorBody`'s form on its paths), or cuts an answer already begun.
 */
export function failRequest(req: Request, res: Response, error: unknown, logger: Logger, errorBody?: ErrorBody): void {
  const requestId = req.headers["x-request-id"];
  logger.error(
    {
      err: error,
      method: req.method,
      path: req.url,
      http: req.httpVersion,
      remoteAddress: remoteAddress(req),
      ...(typeof requestId === "string" ? { requestId } : {}),
    },
    "request failed with an unexpected error",
  );
  try {
    if (!res.headersSent && !res.writableEnded) {
      refuse(req, res, 500, Code.Internal, "internal error", errorBody);
    } else if (res instanceof http2.Http2ServerResponse) {
      resetStream(res.stream, http2.constants.NGHTTP2_INTERNAL_ERROR);
    } else {
      res.destroy();
    }
  } catch (answerError) {
    // The connection is gone or broken: nothing more can reach the client.
    logger.debug({ err: answerError }, "could not answer a failed request");
    res.destroy();
  }
}

/** The client's address; HTTP/2's socket proxy throws once the connection is gone. */
function remoteAddress(req: Request): string | undefined {
  try {
    return req.socket.remoteAddress;
  } catch {
    return undefined;
  }
}
