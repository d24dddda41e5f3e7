import cluster from "node:cluster";
import { constants } from "node:os";
import { runPrimary, shutdownMessage } from "./cluster.js";
import type { Config } from "./config.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";

/**
 * The process once main.ts has its configuration and heap: the primary of
 * WORKERS=n, or a server. main.ts loads this from the bundle build.mjs
 * makes of it, which loads in a fraction of the time of the module tree.
 */
export async function run(config: Config): Promise<void> {
  // In a worker of WORKERS=n, every line says which worker wrote it.
  const logger = cluster.isWorker ? createLogger(config).child({ worker: cluster.worker?.id }) : createLogger(config);
  // Nothing a request does should get here (server/transport contains request
  // failures); if something still does, the log collector gets the reason as a
  // JSON line before Node prints the stack and ends the process.
  process.on("uncaughtExceptionMonitor", (error, origin) => logger.fatal({ err: error, origin }, "uncaught exception: the process ends"));

  if (config.workers > 1 && cluster.isPrimary) {
    // WORKERS=n: this process only starts, restarts and stops the workers (server/cluster.ts).
    runPrimary(config, logger);
    return;
  }

  // Signal handlers go in before the server starts: a supervisor may signal as
  // soon as it sees the "serving" line, and Node's default would kill the process.
  const starting = startServer(config, logger);

  let shuttingDown = false;
  const shutDown = (signal: NodeJS.Signals, fromPrimary: boolean) => {
    if (shuttingDown) {
      // The primary's request repeats a signal this worker may have had already.
      if (fromPrimary) return;
      // A second signal means "now": calls still running are cut off, and the
      // exit code says the process ended on a signal, as a shell would report.
      logger.warn({ signal }, "second signal: exiting without waiting for calls in flight");
      process.exit(128 + constants.signals[signal]);
    }
    shuttingDown = true;
    logger.info({ signal }, "received signal: shutting down gracefully (send it again to exit at once)");
    void starting.then((server) => server.shutdown()).then(() => process.exit(0));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => shutDown(signal, false));
  if (cluster.isWorker) {
    process.on("message", (message) => {
      if (message === shutdownMessage) shutDown("SIGTERM", true);
    });
  }

  await starting.catch((error: unknown) => {
    logger.fatal({ err: error }, "could not start the server");
    process.exit(1);
  });
}
