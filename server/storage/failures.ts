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
  // A write racing the socket's end, when the connection drops mid-query.
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_SOCKET_CLOSED",
]);

/**
 * SQLSTATEs that mean "the server cannot serve you right now", not "your
 * query is wrong": shutting down, starting, too many connections, or the
 * session ended by a server-side timeout.
 */
const unavailableStates = new Set(["57P01", "57P02", "57P03", "57P05", "53300", "25P03"]);

/**
 * A query got no answer in time (server/storage/query-deadline.ts): the
 * database or the network to it stopped answering, so its connection was
 * dropped.
 */
export class QueryTimeoutError extends Error {
  override name = "QueryTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`the database did not answer within ${timeoutMs} ms; the connection was dropped`);
  }
}

/**
 * True when `error` says the database could not be reached or the connection
 * broke (worth retrying later), as opposed to a fault in a query.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof QueryTimeoutError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (networkErrorCodes.has(code) || unavailableStates.has(code) || code.startsWith("08")) return true;
  }
  // node-postgres reports a dropped or timed-out connection with plain
  // errors; so does Kysely for a connection it gave up on because even its
  // ROLLBACK failed (and then used again, to release the migration lock).
  return /connection terminated|timeout exceeded when trying to connect|not queryable|connection timeout|connection has been discarded/i.test(
    error.message,
  );
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
