import { type Logger, pino } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.js";

export type { Logger };

/**
 * The server's one logger. Pretty output is written synchronously in-process
 * (no worker thread), so nothing is lost when the process exits right after
 * logging, as it does at the end of a graceful shutdown.
 */
export function createLogger(config: Pick<Config, "logLevel" | "logFormat">, destination: NodeJS.WritableStream = process.stdout): Logger {
  const options = { level: config.logLevel, base: undefined };
  if (config.logFormat === "pretty") {
    return pino(options, pretty({ destination, sync: true, singleLine: true, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l" }));
  }
  return pino({ ...options, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
