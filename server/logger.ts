import { type DestinationStream, type Logger, pino } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.js";
import { BatchedLogDestination } from "./log-destination.js";

export type { Logger };

/**
 * The server's one logger, in this process (no worker thread). Pretty output
 * is written synchronously. JSON to stdout (production, the benchmark) is
 * written in batches, one write per turn of the event loop, and flushed
 * synchronously when the process exits (see BatchedLogDestination): either
 * way nothing is lost when the process exits right after logging, as it does
 * at the end of a graceful shutdown or on a fatal error. A `destination`
 * other than stdout (tests) is written line by line.
 */
export function createLogger(config: Pick<Config, "logLevel" | "logFormat">, destination?: NodeJS.WritableStream): Logger {
  const options = { level: config.logLevel, base: undefined };
  if (config.logFormat === "pretty") {
    return pino(
      options,
      pretty({
        destination: destination ?? process.stdout,
        sync: true,
        singleLine: true,
        ignore: "pid,hostname",
        translateTime: "SYS:HH:MM:ss.l",
      }),
    );
  }
  const stream: DestinationStream = destination ?? new BatchedLogDestination(1);
  return pino({ ...options, timestamp: isoTimeOncePerMillisecond() }, stream);
}

/**
 * pino's isoTime, formatted once per millisecond: a busy server writes many
 * lines in the same millisecond, and each would build a Date and its string.
 */
function isoTimeOncePerMillisecond(): () => string {
  let last = Number.NaN;
  let field = "";
  return () => {
    const now = Date.now();
    if (now !== last) {
      last = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}
