import { constants } from "node:os";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`configuration error: ${error.message}\n`);
  process.exit(1);
}

const logger = createLogger(config);
// Nothing a request does should get here (server/transport contains request
// failures); if something still does, the log collector gets the reason as a
// JSON line before Node prints the stack and ends the process.
process.on("uncaughtExceptionMonitor", (error, origin) => logger.fatal({ err: error, origin }, "uncaught exception: the process ends"));
// Signal handlers go in before the server starts: a supervisor may signal as
// soon as it sees the "serving" line, and Node's default would kill the process.
const starting = startServer(config, logger);

let shuttingDown = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (shuttingDown) {
      // A second signal means "now": calls still running are cut off, and the
      // exit code says the process ended on a signal, as a shell would report.
      logger.warn({ signal }, "second signal: exiting without waiting for calls in flight");
      process.exit(128 + constants.signals[signal]);
    }
    shuttingDown = true;
    logger.info({ signal }, "received signal: shutting down gracefully (send it again to exit at once)");
    void starting.then((server) => server.shutdown()).then(() => process.exit(0));
  });
}

await starting.catch((error: unknown) => {
  logger.fatal({ err: error }, "could not start the server");
  process.exit(1);
});
