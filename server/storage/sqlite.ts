import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Transaction } from "kysely";
import type { Logger } from "../logger.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Engine } from "./engine.js";
import { describeFailure, sqliteStartFailure } from "./failures.js";
import { HealthState } from "./health.js";
import { sqliteMigrations } from "./migrations/sqlite.js";
import { nodeSqliteDialect } from "./node-sqlite-dialect.js";
import type { Tables } from "./schema.js";
import { sqliteSql, unicodeLower } from "./sqlite-sql.js";

const inMemory = "memory://";
/** The database's file in the data folder; SQLite keeps `-wal` and `-shm` files beside it. */
const databaseFileName = "server.db";
/**
 * How long a statement waits for a lock another connection holds before
 * failing with SQLITE_BUSY (UNAVAILABLE for the call). Only this server
 * writes (data-dir-lock.ts), and in WAL mode readers (a backup, the sqlite3
 * shell) never block it; only another writer can. SQLite waits by sleeping,
 * on the event loop, so the wait is short.
 */
const busyTimeoutMs = 1_000;

export interface SqliteOptions {
  /** A folder, or memory:// for a database that lives as long as the process. */
  readonly dataDir: string;
  /** FULL: a write acknowledged to a client survives a power cut; NORMAL: it survives a crash of the process. */
  readonly synchronous: "full" | "normal";
}

/**
 * SQLite through Node's own `node:sqlite`, in a file of the data folder,
 * in WAL mode. One connection, on the event loop: statements are
 * synchronous and take microseconds, and Kysely runs one at a time, so a
 * transaction has the database to itself. Only one process may open a data
 * folder at a time (data-dir-lock.ts), so order changes go to listeners in
 * this process only, right after each commit.
 */
export async function openSqlite(options: SqliteOptions, logger: Logger): Promise<Engine> {
  const memory = options.dataDir === inMemory;
  const file = memory ? ":memory:" : path.join(options.dataDir, databaseFileName);
  let unlock: () => Promise<void> = async () => {};
  if (!memory) {
    try {
      await mkdir(options.dataDir, { recursive: true });
    } catch (error) {
      throw sqliteStartFailure(file, error);
    }
    unlock = await lockDataDir(options.dataDir);
  }
  const isNew = !memory && !existsSync(file);
  let database: DatabaseSync;
  try {
    database = openFile(file, options);
  } catch (error) {
    await unlock();
    throw sqliteStartFailure(file, error);
  }
  if (memory)
    logger.info({ engine: "sqlite", dataDir: options.dataDir }, "using an in-memory embedded database (nothing is kept after exit)");
  else {
    logger.info(
      { engine: "sqlite", file, synchronous: options.synchronous },
      `${isNew ? "created" : "using"} the embedded database ${file}`,
    );
    reportOldEngine(options.dataDir, file, isNew, logger);
  }

  const channels = new Map<string, Set<(payload: string) => void>>();
  // Changes published by the transaction under way, sent once it commits.
  let pending: Array<{ channel: string; payload: string }> = [];
  const deliver = () => {
    const sent = pending;
    pending = [];
    for (const { channel, payload } of sent) {
      for (const handler of channels.get(channel) ?? []) {
        try {
          handler(payload);
        } catch (error) {
          logger.error({ err: error }, "an order change listener failed");
        }
      }
    }
  };
  const dialect = nodeSqliteDialect(database, { onCommit: deliver, onRollback: () => (pending = []) });
  // One line per kind of failure a minute: a full disk fails every write the same way.
  const lastReported = new Map<string, number>();
  const reportFailure = (error: unknown) => {
    const reason = describeFailure(error);
    const kind = reason.slice(0, 60);
    const now = Date.now();
    if ((lastReported.get(kind) ?? -Infinity) > now - 60_000) return;
    lastReported.set(kind, now);
    logger.error({ reason, file }, `the embedded database ${file} failed a call: ${reason}`);
  };
  return {
    kind: "sqlite",
    adminDialect: dialect,
    callDialect: dialect,
    migrations: sqliteMigrations,
    sql: sqliteSql,
    connections: { max: 1, total: 1, idle: 1, waiting: 0 },
    sharedPool: undefined,
    health: new HealthState(true),
    currentSchema: () => Promise.resolve(undefined),
    listening: true,
    async listen(channel, { onPayload }) {
      const handlers = channels.get(channel) ?? new Set();
      handlers.add(onPayload);
      channels.set(channel, handlers);
    },
    publish(_tx: Transaction<Tables>, channel: string, payload: string) {
      pending.push({ channel, payload });
      return Promise.resolve();
    },
    reportFailure,
    whileStarting: (_what, step) => step(),
    async close() {
      if (database.isOpen) database.close();
      await unlock();
    },
  };
}

function openFile(file: string, { synchronous }: SqliteOptions): DatabaseSync {
  const database = new DatabaseSync(file, { timeout: busyTimeoutMs });
  try {
    // The first statement reads the file: a damaged one, or one that is not a database, fails here.
    database.exec("pragma journal_mode = wal");
    database.exec(`pragma synchronous = ${synchronous}`);
    database.function("unicode_lower", { deterministic: true }, (text) => (typeof text === "string" ? unicodeLower(text) : text));
    // A schema that cannot be read, or a file that is read-only, fails here rather than at the first call.
    database.prepare("select count(*) from sqlite_schema").get();
    if (file !== ":memory:") database.exec("begin immediate; rollback");
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}

/**
 * Servers before this one kept the embedded database in PGlite's folder
 * (`<DATA_DIR>/pglite` by default, or DATA_DIR itself). Nothing is moved
 * or deleted: say once per start where the data now is.
 */
function reportOldEngine(dataDir: string, file: string, isNew: boolean, logger: Logger): void {
  const old = [path.join(dataDir, "pglite"), dataDir].find((folder) => existsSync(path.join(folder, "PG_VERSION")));
  if (old === undefined) return;
  logger[isNew ? "warn" : "info"](
    { oldFolder: old, file },
    `the embedded database engine changed from PGlite to SQLite: ${old} is left untouched (its data was not carried over; remove it once you no longer need it), and the database is now ${file}`,
  );
}
