import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { createApp } from "./app.js";
import { warnOfCleartextTokens } from "./auth/cleartext-warning.js";
import type { Config } from "./config.js";
import { openDependencies } from "./dependencies.js";
import type { FastPathStats } from "./fast-path/fast-path.js";
import { followDependency, HealthRegistry } from "./health/registry.js";
import type { Logger } from "./logger.js";
import { createObservability } from "./observability.js";
import { databaseBackedServices } from "./policy/methods.js";
import type { RouteDependencies } from "./routes.js";
import { type Listener, listen } from "./transport/listener.js";

export interface RunningServer {
  readonly port: number;
  /** The port of /metrics when METRICS_PORT gives it one of its own. */
  readonly metricsPort: number | undefined;
  /** The services' state: the domain objects and the database's health. */
  readonly dependencies: RouteDependencies;
  /** Serving status behind grpc.health.v1 and /readyz; dependencies (the database) drive it. */
  readonly health: HealthRegistry;
  /** Streaming calls open now (each holds a slot of MAX_STREAMS_PER_CALLER and MAX_STREAMS_PER_CONNECTION). */
  readonly openStreams: () => number;
  /** Calls served by the fast path, by protocol (undefined with FAST_PATH=off): tests check unary calls still take it. */
  readonly fastPath: FastPathStats | undefined;
  /**
   * Graceful shutdown: stop accepting, let calls in flight finish for up to
   * `shutdownGraceMs`, then end the calls still running (long-lived streams)
   * with UNAVAILABLE so clients retry elsewhere, and close every connection.
   */
  shutdown(): Promise<void>;
}

/** How long ended calls get to deliver their final status, and connections to close, before they are cut. */
const flushMs = 1_000;

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const shutdownController = new AbortController();
  // Every running call listens to this signal; many concurrent calls are normal, not a leak.
  setMaxListeners(0, shutdownController.signal);
  // The database is ready (migrated, listening for changes) before the port opens.
  const observability = await createObservability(config, logger);
  const database = await openDependencies(config, logger, observability.storageHooks);
  const { dependencies } = database;
  observability.watchOrders(dependencies.orders);
  const health = new HealthRegistry();
  followDependency(health, dependencies.databaseHealth, databaseBackedServices());
  warnOfCleartextTokens(config, logger);
  const app = createApp({ config, logger, shutdownSignal: shutdownController.signal, dependencies, health, observability });
  observability.metrics?.gaugeAtScrape({
    name: "rpc_server_open_streams",
    help: "Streaming calls (client, server, bidi) open in this process: each holds a slot of MAX_STREAMS_PER_CALLER and MAX_STREAMS_PER_CONNECTION.",
    read: (gauge) => gauge.set(app.streams.open),
  });
  let listener: Listener;
  let metricsPort: number | undefined;
  try {
    metricsPort = await observability.listen(logger);
    listener = await listen(app.dispatcher, config, logger, observability.onConnection);
  } catch (error) {
    await observability.close();
    await database.close();
    throw error;
  }
  const urls = listener.hosts.map(
    (host) => `${listener.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${listener.port}`,
  );
  logger.info(
    { port: listener.port, hosts: listener.hosts, tls: listener.tls },
    `serving gRPC, gRPC-Web and Connect on ${urls.join(" and ")}`,
  );

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    // First, so health watchers and /readyz probes see it before connections close.
    health.shutdown();
    listener.drain();
    // Logged once it is true: the port no longer accepts.
    logger.info({ graceMs: config.shutdownGraceMs }, "shutting down: no new connections, waiting for calls in flight");
    // Watches never end by themselves: end them now so their clients
    // reconnect elsewhere instead of holding the shutdown for the whole grace.
    dependencies.orders.endWatches("the server is shutting down");
    if (!(await within(listener.idle(), config.shutdownGraceMs))) {
      logger.info("grace period over: ending the calls still running");
      shutdownController.abort(new ConnectError("server is shutting down", Code.Unavailable));
      await within(listener.idle(), flushMs);
    }
    await listener.close(flushMs);
    await database.close().catch((error: unknown) => logger.error({ err: error }, "could not close the database cleanly"));
    await observability.close();
    logger.info("shutdown complete");
  };

  return {
    port: listener.port,
    metricsPort,
    dependencies,
    health,
    fastPath: app.fastPath,
    openStreams: () => app.streams.open,
    shutdown: () => (stopping ??= stop()),
  };
}

/** True if `promise` settles within `ms`, else false; the timer never outlives the wait. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise.then(() => true), sleep(ms, false, { signal: timer.signal }).catch(() => false)]);
  } finally {
    timer.abort();
  }
}
