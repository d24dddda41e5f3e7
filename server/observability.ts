import type { Interceptor } from "@connectrpc/connect";
import type { Config } from "./config.js";
import type { Orders } from "./domain/orders.js";
import { metricsInterceptor } from "./interceptors/metrics.js";
import type { Logger } from "./logger.js";
import { observeStorage } from "./observability/database.js";
import { ServerMetrics } from "./observability/metrics.js";
import { listenForMetrics, type MetricsGate, type MetricsServer, withMetricsEndpoint } from "./observability/metrics-endpoint.js";
import type { Tracing } from "./observability/tracing.js";
import type { UnseenCallHook } from "./pipeline/unseen-calls.js";
import type { StorageHooks } from "./storage/hooks.js";
import type { RequestHandler } from "./transport/http-handler.js";
import type { ConnectionHook } from "./transport/listener.js";

/**
 * Metrics (unless METRICS=off) and traces (when OTEL_* says so) for one
 * server: what the app, the listener and the storage attach, each through a
 * hook of its own.
 */
export interface Observability {
  readonly metrics: ServerMetrics | undefined;
  readonly tracing: Tracing | undefined;
  /** Run first in every call, before the server's own interceptors. */
  readonly interceptors: readonly Interceptor[];
  /** Counts and traces the calls that end before any interceptor runs. */
  readonly onUnseen: UnseenCallHook | undefined;
  /** Serves GET /metrics beside the API to the requests `gate` lets through, unless METRICS_PORT gives it a port of its own. */
  withEndpoint(handler: RequestHandler, gate?: MetricsGate): RequestHandler;
  readonly storageHooks: StorageHooks;
  readonly onConnection: ConnectionHook | undefined;
  /** Reports the open WatchOrders streams and the changes waiting in them. */
  watchOrders(orders: Orders): void;
  /** Opens METRICS_PORT, if set; returns its port. */
  listen(logger: Logger): Promise<number | undefined>;
  close(): Promise<void>;
}

export async function createObservability(
  config: Pick<Config, "metrics" | "tracing" | "allowedHosts">,
  logger: Logger,
): Promise<Observability> {
  const metrics = config.metrics.enabled ? new ServerMetrics() : undefined;
  // Loaded only when tracing is on: with it off, nothing of OpenTelemetry is imported.
  const traced = config.tracing === undefined ? undefined : await import("./traced.js");
  const tracing = config.tracing === undefined || traced === undefined ? undefined : await traced.startTracing(config.tracing, logger);
  const tracingParts =
    tracing === undefined || traced === undefined
      ? undefined
      : { interceptor: traced.tracingInterceptor(tracing), unseen: traced.unseenCallSpans(tracing), queries: traced.querySpans(tracing) };
  let metricsServer: MetricsServer | undefined;
  const countUnseen: UnseenCallHook | undefined =
    metrics === undefined
      ? undefined
      : ({ facts, service, method, streaming, error }) => {
          metrics.endedCall({ service, method, protocol: facts.protocol, httpVersion: facts.http, streaming }, facts.started, error);
          return undefined;
        };
  const traceUnseen = tracingParts?.unseen;
  return {
    metrics,
    tracing,
    // The span first, so that it covers the rest; the log line is the next interceptor's (serverInterceptors).
    interceptors: [
      ...(tracingParts === undefined ? [] : [tracingParts.interceptor]),
      ...(metrics === undefined ? [] : [metricsInterceptor(metrics)]),
    ],
    onUnseen:
      countUnseen === undefined || traceUnseen === undefined
        ? (countUnseen ?? traceUnseen)
        : (call) => {
            countUnseen(call);
            return traceUnseen(call);
          },
    withEndpoint: (handler, gate) =>
      metrics === undefined || config.metrics.port !== undefined ? handler : withMetricsEndpoint(metrics, handler, gate),
    storageHooks: observeStorage(metrics, tracingParts?.queries),
    onConnection: metrics === undefined ? undefined : (protocol, socket) => metrics.connection(protocol === "h2" ? "2" : "1.1", socket),
    watchOrders(orders) {
      metrics?.gaugeAtScrape({
        name: "order_watchers",
        help: "WatchOrders streams open in this process.",
        read: (gauge) => gauge.set(orders.watchCount),
      });
      metrics?.gaugeAtScrape({
        name: "order_watch_buffered_changes",
        help: "Order changes waiting in open watches for their clients to read them (each watch holds at most WATCH_BUFFER_LIMIT).",
        read: (gauge) => gauge.set(orders.bufferedChanges),
      });
    },
    async listen(logger) {
      if (metrics === undefined || config.metrics.port === undefined) return undefined;
      metricsServer = await listenForMetrics(metrics, config.metrics.port, config.metrics.hosts, config.allowedHosts, logger);
      return metricsServer.port;
    },
    async close() {
      await metricsServer?.close();
      await tracing?.shutdown();
    },
  };
}
