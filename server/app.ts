import { createConnectRouter } from "@connectrpc/connect";
import { metricsReader } from "./auth/metrics-access.js";
import { compressions } from "./compression.js";
import type { Config } from "./config.js";
import { createDispatcher } from "./dispatch/dispatcher.js";
import { rpcAdapter } from "./dispatch/rpc-adapter.js";
import { MethodChains } from "./fast-path/chains.js";
import { FastPath, type FastPathStats } from "./fast-path/fast-path.js";
import { methodTable } from "./fast-path/methods.js";
import { RunningCalls } from "./fast-path/running-calls.js";
import { withProbes } from "./health/probes.js";
import type { HealthRegistry } from "./health/registry.js";
import type { Logger } from "./logger.js";
import type { Observability } from "./observability.js";
import { rememberCallSignal } from "./pipeline/call-state.js";
import { callPipeline } from "./pipeline/pipeline.js";
import { logUnrouted } from "./pipeline/unseen-calls.js";
import { assertClassified } from "./policy/methods.js";
import type { StreamBudget } from "./rate-limit/stream-budget.js";
import { restHandler } from "./rest/rest-handler.js";
import { RouteTable } from "./rest/route-table.js";
import { restErrorBody } from "./rest/status-body.js";
import { type RouteDependencies, serviceTable } from "./routes.js";
import type { ServiceEntry } from "./services/registry.js";
import { notFound } from "./transport/grpc-answers.js";
import type { Dispatcher } from "./transport/http-handler.js";
import { UploadBudget } from "./transport/upload-budget.js";
import { describeAccess, generatedApiDescription } from "./web/api-description.js";
import { withCors } from "./web/cors.js";
import { withApiDescription } from "./web/openapi.js";
import { createPageHandler } from "./web/static.js";
import { guardedJsonOptions } from "./wire/json-shape.js";

export interface AppOptions {
  readonly config: Pick<
    Config,
    | "readMaxBytes"
    | "uploads"
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

/** What the listener serves, and what the server reports of it. */
export interface App {
  /** Where the listener hands every request: RPCs of every protocol, the page, probes and /metrics. */
  readonly dispatcher: Dispatcher;
  /** Calls served by the fast path, by protocol; undefined with FAST_PATH=off. */
  readonly fastPath: FastPathStats | undefined;
  /** The streaming calls open now. */
  readonly streams: StreamBudget;
}

/** Everything the server answers, whatever the protocol, HTTP version or transport security. */
export function createApp({ config, logger, shutdownSignal, dependencies, health, observability }: AppOptions): App {
  // Every call runs it, whichever way it reaches its handler.
  const pipeline = callPipeline({ config, logger, rateLimiters: dependencies.rateLimiters, observability });
  const { interceptors, reportUnseen, streams } = pipeline;
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
    interceptors: [...interceptors],
  });
  for (const entry of services) entry.register(router);
  const handlers = router.handlers.map((registered) => pipeline.wrap(registered));
  // The unary and server-streaming methods, with their implementations:
  // what the fast path and REST run, through the same chains.
  const table = methodTable(handlers, services, {
    binaryOptions,
    jsonOptions: guardedJsonOptions,
    readMaxBytes: config.readMaxBytes,
    compressMinBytes: config.compressMinBytes,
  });
  const chains = new MethodChains(interceptors);
  // Request bodies still arriving, on the fast path and REST alike: bounded in bytes and time.
  const uploads = new UploadBudget(config.uploads);
  // REST routes (google.api.http), read from the contracts; a rule the
  // transcoder cannot serve stops the server here.
  const routes = new RouteTable(
    services.map((entry) => entry.service),
    table,
  );
  const rest = restHandler(
    {
      routes,
      chains,
      running: new RunningCalls(shutdownSignal),
      reportUnseen,
      readMaxBytes: config.readMaxBytes,
      uploads,
      maxTimeoutMs: config.maxTimeoutMs,
      jsonOptions: guardedJsonOptions,
      logger,
    },
    // Not a REST route: the API's description, the web page's files, else "not found" as each protocol says it.
    withApiDescription({
      describe: async () =>
        describeAccess(
          await generatedApiDescription(),
          services.map((entry) => entry.service),
          config.auth,
        ),
      otherwise: createPageHandler({ logger, otherwise: logUnrouted(notFound, reportUnseen) }),
      logger,
    }),
  );
  const handler = rpcAdapter({
    handlers,
    contextValues: pipeline.nodeCallValues,
    // Not an RPC: a REST route, else the API's description or the page.
    fallback: rest,
    uploads,
    logger,
  });
  // The fast path serves the unary calls it can with the same interceptors,
  // implementations, serialization options and limits; it hands the rest to
  // connect-node (see server/fast-path).
  const fastPath = config.fastPath
    ? new FastPath({
        table,
        chains,
        compressions,
        readMaxBytes: config.readMaxBytes,
        uploads,
        compressMinBytes: config.compressMinBytes,
        maxTimeoutMs: config.maxTimeoutMs,
        jsonOptions: guardedJsonOptions,
        cors: config.allowedOrigins.length > 0,
        shutdownSignal,
        reportUnseen,
      })
    : undefined;
  // /metrics beside the API is for token holders with "metrics:read". With
  // authentication off there is no token to check: such a server is
  // loopback-only unless AUTH_MODE=off opened everything on purpose.
  const metricsGate = pipeline.verifier === undefined ? undefined : metricsReader(pipeline.verifier);
  const probed = withProbes(health, handler);
  const http = withCors(observability === undefined ? probed : observability.withEndpoint(probed, metricsGate), config.allowedOrigins);
  return {
    dispatcher: createDispatcher({ fastPath, handler: http, errorBody: restErrorBody(routes), logger }),
    fastPath: fastPath?.stats,
    streams,
  };
}

/** Unknown fields of binary requests are skipped, not kept: no handler sends a request on, and keeping millions of them took seconds. */
const binaryOptions = { readUnknownFields: false };
