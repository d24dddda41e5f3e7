import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { listen } from "./transport/listener.js";

export interface RunningServer {
  readonly port: number;
  /**
   * Graceful shutdown: stop accepting, let calls in flight finish for up to
   * `shutdownGraceMs`, then end the calls still running (long-lived streams)
   * with UNAVAILABLE so clients retry elsewhere, and close every connection.
   */
  shutdown(): Promise<void>;
}

/** How long ended calls get to deliver their final status before connections are cut. */
const flushMs = 1_000;

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const shutdownController = new AbortController();
  const app = createApp({ config, logger, shutdownSignal: shutdownController.signal });
  const listener = await listen(app, config, logger);
  logger.info(
    { port: listener.port, host: config.host ?? "*", tls: listener.tls },
    `serving gRPC, gRPC-Web and Connect on ${listener.tls ? "https" : "http"}://${config.host ?? "localhost"}:${listener.port}`,
  );

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    logger.info({ graceMs: config.shutdownGraceMs }, "shutting down: no new connections, waiting for calls in flight");
    listener.drain();
    if (!(await within(listener.idle(), config.shutdownGraceMs))) {
      logger.info("grace period over: ending the calls still running");
      shutdownController.abort(new ConnectError("server is shutting down", Code.Unavailable));
      await within(listener.idle(), flushMs);
    }
    listener.destroy();
    logger.info("shutdown complete");
  };

  return {
    port: listener.port,
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
