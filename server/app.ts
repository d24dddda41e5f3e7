import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { Health } from "../gen/health/v1/health_pb.js";
import { withPlainGrpcMessages } from "./compat/grpc-message.js";
import { compressions } from "./compression.js";
import type { Config } from "./config.js";
import { withProbes } from "./health/probes.js";
import { HealthRegistry } from "./health/registry.js";
import { healthService } from "./health/service.js";
import { answerNotModified, cachingInterceptor } from "./interceptors/caching.js";
import { connectVersionInterceptor } from "./interceptors/connect-version.js";
import { errorMappingInterceptor } from "./interceptors/errors.js";
import { loggingInterceptor } from "./interceptors/logging.js";
import { requestIdInterceptor } from "./interceptors/request-id.js";
import { requestInfoKey } from "./interceptors/request-info.js";
import type { Logger } from "./logger.js";
import { registerReflection } from "./reflection/service.js";
import { routes } from "./routes.js";

/** A handler for both HTTP/1.1 and HTTP/2 requests (what connect-node returns). */
export type RequestHandler = ReturnType<typeof connectNodeAdapter>;

export interface AppOptions {
  readonly config: Pick<Config, "readMaxBytes" | "maxTimeoutMs" | "compressMinBytes">;
  readonly logger: Logger;
  /** Aborting it ends every running call: the last step of a graceful shutdown. */
  readonly shutdownSignal?: AbortSignal;
  /** Serving status for grpc.health.v1 and /readyz; a fresh one if not given. */
  readonly health?: HealthRegistry;
}

/** The HTTP handler for every RPC, whatever the protocol, HTTP version or transport security. */
export function createApp({ config, logger, shutdownSignal, health = new HealthRegistry() }: AppOptions): RequestHandler {
  const handler = connectNodeAdapter({
    routes: (router) => {
      routes(router);
      // The gRPC tooling comes last: reflection describes everything
      // registered (itself included), plus the error detail types so tools
      // can decode details; health knows every service by name.
      router.service(Health, healthService(health));
      registerReflection(router, [file_google_rpc_error_details]);
      health.add(router.handlers.map((registered) => registered.service.typeName));
    },
    readMaxBytes: config.readMaxBytes,
    maxTimeoutMs: config.maxTimeoutMs,
    acceptCompression: [...compressions],
    compressMinBytes: config.compressMinBytes,
    shutdownSignal,
    // Outermost first: the log line shows the status code the client receives.
    interceptors: [
      loggingInterceptor(logger),
      requestIdInterceptor(),
      connectVersionInterceptor(),
      errorMappingInterceptor(logger),
      cachingInterceptor(),
    ],
    contextValues: (req) =>
      createContextValues().set(requestInfoKey, {
        httpVersion: req.httpVersion,
        remoteAddress: req.socket.remoteAddress,
      }),
    fallback: (_req, res) => {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("Not Found\n");
    },
  });
  return withProbes(health, withPlainGrpcMessages(answerNotModified(handler)));
}
