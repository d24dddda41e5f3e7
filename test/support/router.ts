import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { errorMappingInterceptor } from "../../server/interceptors/errors.js";
import { loggingInterceptor } from "../../server/interceptors/logging.js";
import { streamEndInterceptor } from "../../server/interceptors/stream-end.js";
import { routes } from "../../server/routes.js";
import { memoryLogger, type LogRecord } from "./logs.js";

/**
 * Every route of the server with the server's interceptors, in memory: no
 * sockets, no HTTP. Returns the transport and what the server logged.
 */
export function routerTransport(): { transport: Transport; logs: LogRecord[] } {
  const { logger, logs } = memoryLogger();
  const transport = createRouterTransport(routes, {
    router: { interceptors: [loggingInterceptor(logger), errorMappingInterceptor(logger), streamEndInterceptor()] },
  });
  return { transport, logs };
}
