import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Config } from "./config.js";
import { errorMappingInterceptor } from "./interceptors/errors.js";
import { loggingInterceptor } from "./interceptors/logging.js";
import { requestInfoKey } from "./interceptors/request-info.js";
import { streamEndInterceptor } from "./interceptors/stream-end.js";
import type { Logger } from "./logger.js";
import { routes } from "./routes.js";
import { notFound } from "./transport/grpc-answers.js";

/** A handler for both HTTP/1.1 and HTTP/2 requests (what connect-node returns). */
export type RequestHandler = ReturnType<typeof connectNodeAdapter>;

export interface AppOptions {
  readonly config: Pick<Config, "readMaxBytes" | "maxTimeoutMs">;
  readonly logger: Logger;
  /** Aborting it ends every running call: the last step of a graceful shutdown. */
  readonly shutdownSignal?: AbortSignal;
}

/** The HTTP handler for every RPC, whatever the protocol, HTTP version or transport security. */
export function createApp({ config, logger, shutdownSignal }: AppOptions): RequestHandler {
  return connectNodeAdapter({
    routes,
    readMaxBytes: config.readMaxBytes,
    maxTimeoutMs: config.maxTimeoutMs,
    shutdownSignal,
    // A misspelt field in hand-written JSON ({"numbr": 4}) is an error, as
    // the protobuf JSON mapping prescribes, not a silent default value.
    jsonOptions: { ignoreUnknownFields: false },
    // Outermost first: the log line shows the status code the client receives.
    interceptors: [loggingInterceptor(logger), errorMappingInterceptor(logger), streamEndInterceptor()],
    contextValues: (req) =>
      createContextValues().set(requestInfoKey, {
        httpVersion: req.httpVersion,
        remoteAddress: req.socket.remoteAddress,
      }),
    fallback: notFound,
  });
}
