import cluster, { type Worker } from "node:cluster";
import { constants } from "node:os";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";

/** The message the primary sends a worker to drain, as SIGTERM would. */
export const shutdownMessage = "connect-polyglot-server:shutdown";

/** A worker that dies sooner than this after it started counts as a crash loop: the next restart waits longer. */
const stableAfterMs = 10_000;
const firstBackoffMs = 100;
const maxBackoffMs = 30_000;

/**
 * WORKERS=n: this process becomes the primary of n worker processes that
 * each run the whole server on the one port (node:cluster: the primary
 * accepts connections and hands them to the workers in turn). The primary
 * serves nothing itself. It restarts a worker that dies, after a pause that
 * doubles while workers keep dying young (100 ms up to 30 s), and on
 * SIGTERM/SIGINT asks every worker to drain as one server does, then exits
 * once they all have. Each worker has its own database pool and its own
 * LISTEN connection, so every worker's watches see every change.
 */
export function runPrimary(config: Pick<Config, "workers" | "port">, logger: Logger): void {
  let shuttingDown = false;
  let backoffMs = firstBackoffMs;
  let exitCode = 0;
  const started = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork();
    started.set(worker, Date.now());
  };

  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (started.get(worker) ?? Date.now());
    started.delete(worker);
    if (shuttingDown) {
      if (code !== 0) exitCode = 1;
      logger.info({ worker: worker.id, pid: worker.process.pid, code, signal }, "worker stopped");
      if (started.size === 0) {
        logger.info("every worker has stopped: shutdown complete");
        process.exit(exitCode);
      }
      return;
    }
    backoffMs = lived >= stableAfterMs ? firstBackoffMs : Math.min(backoffMs * 2, maxBackoffMs);
    const delayMs = lived >= stableAfterMs ? 0 : backoffMs;
    logger.error(
      { worker: worker.id, pid: worker.process.pid, code, signal, livedMs: lived, restartInMs: delayMs },
      "worker died: starting another",
    );
    setTimeout(() => {
      if (!shuttingDown) fork();
    }, delayMs);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        // Second signal: the workers got it too (a terminal signals the whole group) or get it now.
        logger.warn({ signal }, "second signal: stopping the workers at once");
        for (const worker of started.keys()) worker.process.kill("SIGKILL");
        process.exit(128 + constants.signals[signal]);
      }
      shuttingDown = true;
      logger.info({ signal, workers: started.size }, "received signal: draining every worker (send it again to stop them at once)");
      // A message, not the signal: a worker that got the terminal's SIGINT as well must not take this as a second one.
      for (const worker of started.keys()) if (worker.isConnected()) worker.send(shutdownMessage);
      if (started.size === 0) process.exit(0);
    });
  }

  logger.info({ workers: config.workers, port: config.port }, `starting ${config.workers} worker processes on one port`);
  for (let index = 0; index < config.workers; index++) fork();
}
