import { Writable } from "node:stream";
import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { errorMappingInterceptor } from "../../server/interceptors/errors.js";
import { loggingInterceptor } from "../../server/interceptors/logging.js";
import { streamEndInterceptor } from "../../server/interceptors/stream-end.js";
import { createLogger } from "../../server/logger.js";
import { routes } from "../../server/routes.js";
import type { LogRecord } from "./server.js";

/**
 * Every route of the server with the server's interceptors, in memory: no
 * sockets, no HTTP. Returns the transport and what the server logged.
 */
export function routerTransport(): { transport: Transport; logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const logger = createLogger({ logLevel: "info", logFormat: "json" }, sink);
  const transport = createRouterTransport(routes, {
    router: { interceptors: [loggingInterceptor(logger), errorMappingInterceptor(logger), streamEndInterceptor()] },
  });
  return { transport, logs };
}
