import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../server/logger.js";

/** A log line the server wrote, as JSON. */
export type LogRecord = Record<string, unknown> & { msg: string };

/** The server's own logger (JSON format), writing into an array instead of stdout. */
export function memoryLogger(): { logger: Logger; logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: createLogger({ logLevel: "info", logFormat: "json" }, sink), logs };
}
