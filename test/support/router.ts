import { after } from "node:test";
import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { loadConfig } from "../../server/config.js";
import { openDependencies } from "../../server/dependencies.js";
import { serverInterceptors } from "../../server/pipeline/pipeline.js";
import { createRoutes } from "../../server/routes.js";
import { type LogRecord, memoryLogger } from "./logs.js";

/**
 * Every route of the server with the server's interceptors, in memory: no
 * sockets, no HTTP; the stateful services run on an in-memory SQLite database that is
 * closed after the file's tests. Returns the transport and what was logged.
 */
export async function routerTransport(): Promise<{ transport: Transport; logs: LogRecord[] }> {
  const { logger, logs } = memoryLogger();
  const { dependencies, close } = await openDependencies(loadConfig({ DATA_DIR: "memory://" }, false), logger);
  after(close);
  const transport = createRouterTransport(createRoutes(dependencies), { router: { interceptors: serverInterceptors(logger) } });
  return { transport, logs };
}
