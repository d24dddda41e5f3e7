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
 * SQLite's primary result codes (node:sqlite's `errcode`, low byte) that
 * mean "the database cannot serve you right now", not "your query is
 * wrong": busy or locked beyond the busy timeout, out of memory, read-only,
 * a disk I/O error, a damaged file, a full disk, a file that cannot be
 * opened, or is not a database.
 */
const sqliteUnavailableCodes = new Map([
  [5, "the database is locked by another connection"],
  [6, "a table is locked"],
  [7, "out of memory"],
  [8, "the database file or its folder is read-only"],
  [10, "a disk I/O error"],
  [11, "the database file is damaged"],
  [13, "the disk is full"],
  [14, "the database file cannot be opened"],
  [15, "the database lock protocol failed"],
  [26, "the file is not a SQLite database"],
]);

/** What SQLite's result code says, for a node:sqlite error; undefined for anything else. */
function sqliteCode(error: Error): number | undefined {
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  return code === "ERR_SQLITE_ERROR" && typeof errcode === "number" ? errcode & 0xff : undefined;
}

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
 * The embedded database's writer thread ended (it crashed, or the server is
 * closing) before the write was acknowledged: nothing of it was committed.
 */
export class WriterGoneError extends Error {
  override name = "WriterGoneError";
  constructor(reason = "the database writer stopped before the write was committed") {
    super(reason);
  }
}

/**
 * True when `error` says the database could not be reached or the connection
 * broke (worth retrying later), as opposed to a fault in a query.
 */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof QueryTimeoutError || error instanceof WriterGoneError) return true;
  const sqlite = sqliteCode(error);
  if (sqlite !== undefined) return sqliteUnavailableCodes.has(sqlite);
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

/**
 * True when a catalog lookup failed because another client of the same
 * PostgreSQL dropped a schema or table while the lookup ran: functions such
 * as has_schema_privilege read the catalog as it is now, not as the query's
 * snapshot saw it. Looking again sees the catalog without it.
 */
export function isCatalogChangedUnderLookup(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return code === "3F000" || code === "42P01";
}

/** A short reason for logs and messages, without credentials or stack. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const sqlite = sqliteCode(error);
  if (sqlite !== undefined) {
    const meaning = sqliteUnavailableCodes.get(sqlite);
    return meaning === undefined || error.message.includes(meaning) ? error.message : `${meaning} (${error.message})`;
  }
  const code = (error as { code?: unknown }).code;
  const message = error.message || (error instanceof AggregateError ? String(error.errors[0]) : error.name);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/** What the client is told: clear, retryable, and without the database's address (the log has the details). */
export function unavailable(error: unknown): UnavailableError {
  return new UnavailableError("the database cannot be reached right now; try again shortly", { cause: error });
}

/**
 * Why the embedded database could not be opened at start, as one line that
 * says what to do about it.
 */
export function sqliteStartFailure(file: string, error: unknown): Error {
  const reason = describeFailure(error);
  const code = error instanceof Error ? (sqliteCode(error) ?? (error as NodeJS.ErrnoException).code) : undefined;
  const advice =
    code === 11 || code === 26
      ? "move the file (and its -wal and -shm files) away to start with a new database, or restore it from a backup"
      : code === 8 || code === 14 || code === "EACCES" || code === "EROFS" || code === "EPERM"
        ? "the server needs to read and write the data folder (DATA_DIR) and the files in it"
        : code === 13 || code === "ENOSPC"
          ? "free some disk space"
          : "check DATA_DIR";
  return new Error(`could not open the embedded database ${file}: ${reason}; ${advice}`, { cause: error });
}
