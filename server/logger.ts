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
        // Fields are printed as JSON, escaped; the message is printed as it
        // is, and may quote what a client sent (an id in "call failed: …").
        messageFormat: (log, messageKey) => printable(String(log[messageKey] ?? "")),
        ignore: "pid,hostname",
        translateTime: "SYS:HH:MM:ss.l",
      }),
    );
  }
  const stream: DestinationStream = destination ?? new BatchedLogDestination(1);
  return pino({ ...options, timestamp: isoTimeOncePerMillisecond() }, stream);
}

/**
 * Characters that could start a line of their own, or rewrite the line on a
 * terminal, written as escapes: control characters (line breaks, ESC, BEL,
 * C1 controls), Unicode's line and paragraph separators, and bidirectional
 * overrides that show text in another order than it was written.
 */
const unprintable = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const namedEscapes: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every unprintable character escaped ("\n", "\u001b"), so that one log entry stays one line. */
export function printable(text: string): string {
  return text.replace(
    unprintable,
    (character) => namedEscapes[character] ?? `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
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
