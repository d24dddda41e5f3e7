import { UnavailableError } from "../domain/errors.js";

const networkErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

/** SQLSTATEs that mean "the server cannot serve you right now", not "your query is wrong". */
const unavailableStates = new Set(["57P01", "57P02", "57P03", "53300"]);

/**
 * True when `error` says the database could not be reached or the connection
 * broke (worth retrying later), as opposed to a fault in a query.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (networkErrorCodes.has(code) || unavailableStates.has(code) || code.startsWith("08")) return true;
  }
  // node-postgres reports a dropped or timed-out connection with plain errors.
  return /connection terminated|timeout exceeded when trying to connect|not queryable|connection timeout/i.test(error.message);
}

/** A short reason for logs and messages, without credentials or stack. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const message = error.message || (error instanceof AggregateError ? String(error.errors[0]) : error.name);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/** What the client is told: clear, retryable, and without the database's address (the log has the details). */
export function unavailable(error: unknown): UnavailableError {
  return new UnavailableError("the database cannot be reached right now; try again shortly", { cause: error });
}
