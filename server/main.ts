import { ConfigError, loadConfig, type Config } from "./config.js";
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
const server = await startServer(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, "could not start the server");
  process.exit(1);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "received signal");
    // A second signal means "now": the default handler ends the process.
    void server.shutdown().then(() => process.exit(0));
  });
}
