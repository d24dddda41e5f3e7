import { createContextValues, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Config } from "./config.js";
import { errorMappingInterceptor } from "./interceptors/errors.js";
import { loggingInterceptor } from "./interceptors/logging.js";
import { requestInfoKey } from "./interceptors/request-info.js";
import { streamEndInterceptor } from "./interceptors/stream-end.js";
import type { Logger } from "./logger.js";
import { createRoutes, type RouteDependencies } from "./routes.js";
import { notFound } from "./transport/grpc-answers.js";

/** A handler for both HTTP/1.1 and HTTP/2 requests (what connect-node returns). */
export type RequestHandler = ReturnType<typeof connectNodeAdapter>;

export interface AppOptions {
  readonly config: Pick<Config, "readMaxBytes" | "maxTimeoutMs">;
  readonly logger: Logger;
  /** Aborting it ends every running call: the last step of a graceful shutdown. */
  readonly shutdownSignal?: AbortSignal;
  /** What the stateful services need (the database behind Movie and Order). */
  readonly dependencies: RouteDependencies;
}

/** Every call passes these, outermost first: the log line shows the status code the client receives. */
export function serverInterceptors(logger: Logger): Interceptor[] {
  return [loggingInterceptor(logger), errorMappingInterceptor(logger), streamEndInterceptor()];
}

/** The HTTP handler for every RPC, whatever the protocol, HTTP version or transport security. */
export function createApp({ config, logger, shutdownSignal, dependencies }: AppOptions): RequestHandler {
  return connectNodeAdapter({
    routes: createRoutes(dependencies),
    readMaxBytes: config.readMaxBytes,
    maxTimeoutMs: config.maxTimeoutMs,
    shutdownSignal,
    interceptors: serverInterceptors(logger),
    contextValues: (req) =>
      createContextValues().set(requestInfoKey, {
        httpVersion: req.httpVersion,
        remoteAddress: req.socket.remoteAddress,
      }),
    fallback: notFound,
  });
}
