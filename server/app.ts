import { createConnectRouter, createContextValues, type Interceptor } from "@connectrpc/connect";
import type { connectNodeAdapter } from "@connectrpc/connect-node";
import { guardInterceptors } from "./auth/guards.js";
import { metricsReader } from "./auth/metrics-access.js";
import { createVerifier } from "./auth/verifier.js";
import { compressions } from "./compression.js";
import type { Config } from "./config.js";
import { FastPath } from "./fast-path/fast-path.js";
import { fastPathH1 } from "./fast-path/h1.js";
import { methodTable } from "./fast-path/methods.js";
import { withProbes } from "./health/probes.js";
import type { HealthRegistry } from "./health/registry.js";
import { answerNotModified, cachingInterceptor } from "./interceptors/caching.js";
import { rememberCallSignal } from "./interceptors/call-state.js";
import { clientAddressInterceptor } from "./interceptors/client-address.js";
import { connectVersionInterceptor } from "./interceptors/connect-version.js";
import { errorMappingInterceptor } from "./interceptors/errors.js";
import { guardedJsonOptions } from "./interceptors/json-shape.js";
import { loggingInterceptor } from "./interceptors/logging.js";
import { requestIdInterceptor } from "./interceptors/request-id.js";
import { requestInfoKey } from "./interceptors/request-info.js";
import { streamBudgetInterceptor } from "./interceptors/stream-budget.js";
import { streamEndInterceptor } from "./interceptors/stream-end.js";
import { answerUnseenCalls, logUnrouted } from "./interceptors/unseen-calls.js";
import type { Logger } from "./logger.js";
import type { Observability } from "./observability/observability.js";
import { assertClassified } from "./policy/methods.js";
import { StreamBudget } from "./rate-limit/stream-budget.js";
import { type RouteDependencies, serviceTable } from "./routes.js";
import type { ServiceEntry } from "./services/registry.js";
import { uploadDrainLimits } from "./transport/drain-request.js";
import { finishUploadFirst, nodeRequestKey } from "./transport/finish-upload.js";
import { notFound } from "./transport/grpc-answers.js";
import { rpcAdapter } from "./transport/rpc-adapter.js";
import { trustedProxies } from "./transport/trusted-proxies.js";
import { withCors } from "./web/cors.js";
import { createPageHandler } from "./web/static.js";

/** A handler for both HTTP/1.1 and HTTP/2 requests (what connect-node returns). */
export type RequestHandler = ReturnType<typeof connectNodeAdapter>;

/**
 * The app's request handler, its fast path for the listener's HTTP/2 streams
 * (undefined when FAST_PATH=off), and the streaming calls it has open.
 */
export type App = RequestHandler & { readonly fastPath: FastPath | undefined; readonly streams: StreamBudget };

export interface AppOptions {
  readonly config: Pick<
    Config,
    | "readMaxBytes"
    | "maxTimeoutMs"
    | "compressMinBytes"
    | "allowedOrigins"
    | "auth"
    | "reflection"
    | "fastPath"
    | "trustProxy"
    | "streamLimits"
  >;
  readonly logger: Logger;
  /** Aborting it ends every running call: the last step of a graceful shutdown. */
  readonly shutdownSignal?: AbortSignal;
  /** What the stateful services need (the database behind Movie and Order). */
  readonly dependencies: RouteDependencies;
  /** Serving status for grpc.health.v1 and /readyz. */
  readonly health: HealthRegistry;
  /** Metrics and traces: their interceptors run first in every call. */
  readonly observability?: Observability;
}

/**
 * Every call passes these, outermost first: the log line shows the status
 * code the client receives. `guards` (authentication, authorization, rate
 * limits) run inside the error mapping, before caching and the handler; the
 * stream budget after them, so that it counts the authenticated caller and a
 * call refused by a guard holds no slot.
 */
export function serverInterceptors(
  logger: Logger,
  guards: Interceptor[] = [],
  trustProxy: readonly string[] = [],
  streams?: StreamBudget,
): Interceptor[] {
  return [
    // First: the log line and the rate limits count the client this names.
    clientAddressInterceptor(trustedProxies(trustProxy)),
    loggingInterceptor(logger),
    requestIdInterceptor(),
    connectVersionInterceptor(),
    errorMappingInterceptor(logger),
    ...guards,
    ...(streams === undefined ? [] : [streamBudgetInterceptor(streams)]),
    cachingInterceptor(),
    streamEndInterceptor(),
  ];
}

/**
 * Every service the server answers (see serviceTable); throws if one has a
 * method the method table (server/policy/methods.ts) does not classify. Health knows each by name.
 */
export function servicesOf(options: Parameters<typeof serviceTable>[0]): readonly ServiceEntry[] {
  const services = serviceTable(options);
  // A method nobody classified could change data unguarded: refuse to start.
  assertClassified(services.map((entry) => entry.service));
  options.health.add(services.map((entry) => entry.service.typeName));
  return services;
}

/** The HTTP handler for every RPC, whatever the protocol, HTTP version or transport security. */
export function createApp({ config, logger, shutdownSignal, dependencies, health, observability }: AppOptions): App {
  const guards = guardInterceptors(config.auth, dependencies.rateLimiters, logger, observability?.metrics);
  const onUnseen = observability?.onUnseen;
  // Every call runs these, whichever way it reaches its handler: tracing and metrics first.
  const streams = new StreamBudget(config.streamLimits);
  const interceptors = [...(observability?.interceptors ?? []), ...serverInterceptors(logger, guards, config.trustProxy, streams)];
  const services = servicesOf({ dependencies, health, reflection: config.reflection });
  const router = createConnectRouter({
    requestGate: rememberCallSignal,
    readMaxBytes: config.readMaxBytes,
    maxTimeoutMs: config.maxTimeoutMs,
    acceptCompression: [...compressions],
    compressMinBytes: config.compressMinBytes,
    shutdownSignal,
    // Unknown JSON fields are errors; JSON too deep or too large for any
    // request message is refused before it is parsed (see json-shape.ts).
    jsonOptions: guardedJsonOptions,
    binaryOptions,
    interceptors,
  });
  for (const entry of services) entry.register(router);
  // Each procedure's handler, wrapped: it also answers and logs the calls no
  // interceptor sees, and reads the rest of a request it answered early.
  const drainLimits = uploadDrainLimits(config.readMaxBytes);
  const handlers = router.handlers.map((registered) => finishUploadFirst(answerUnseenCalls(registered, logger, onUnseen), drainLimits));
  const handler = rpcAdapter({
    handlers,
    contextValues: (req) =>
      createContextValues()
        .set(requestInfoKey, {
          httpVersion: req.httpVersion,
          remoteAddress: req.socket.remoteAddress,
          // HTTP/2 requests' `socket` is a proxy made per stream: the session is the connection.
          connection: "stream" in req ? (req.stream.session ?? req.socket) : req.socket,
        })
        .set(nodeRequestKey, req),
    // Not an RPC: the web page's files, else "not found" as each protocol says it.
    fallback: createPageHandler({ logger, otherwise: logUnrouted(logger, notFound, onUnseen) }),
    logger,
  });
  // The fast path serves the unary calls it can with the same interceptors,
  // implementations, serialization options and limits; it hands the rest to
  // connect-node (see server/fast-path).
  const fastPath = config.fastPath
    ? new FastPath({
        table: methodTable(handlers, services, {
          binaryOptions,
          jsonOptions: guardedJsonOptions,
          readMaxBytes: config.readMaxBytes,
          compressMinBytes: config.compressMinBytes,
        }),
        interceptors,
        compressions,
        readMaxBytes: config.readMaxBytes,
        compressMinBytes: config.compressMinBytes,
        maxTimeoutMs: config.maxTimeoutMs,
        jsonOptions: guardedJsonOptions,
        cors: config.allowedOrigins.length > 0,
        shutdownSignal,
        logger,
        onUnseen,
      })
    : undefined;
  const rpc = fastPath === undefined ? handler : fastPathH1(fastPath, handler, logger);
  const app = withCors(withProbes(health, answerNotModified(rpc)), config.allowedOrigins);
  // /metrics beside the API is for token holders with "metrics:read". With
  // authentication off there is no token to check: such a server is
  // loopback-only unless AUTH_MODE=off opened everything on purpose.
  const metricsGate = config.auth.mode === "jwt" ? metricsReader(createVerifier(config.auth, logger)) : undefined;
  return Object.assign(observability === undefined ? app : observability.withEndpoint(app, metricsGate), { fastPath, streams });
}

/** Unknown fields of binary requests are skipped, not kept: no handler sends a request on, and keeping millions of them took seconds. */
const binaryOptions = { readUnknownFields: false };
