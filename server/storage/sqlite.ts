import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { Dialect, Transaction } from "kysely";
import type { Logger } from "../logger.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { ConnectionStats, Engine } from "./engine.js";
import { describeFailure, sqliteStartFailure, WriterGoneError } from "./failures.js";
import { HealthState } from "./health.js";
import { sqliteMigrations } from "./migrations/sqlite.js";
import { nodeSqliteDialect } from "./node-sqlite-dialect.js";
import type { Tables } from "./schema.js";
import { openConnection } from "./sqlite-connection.js";
import { type LazyWriter, type Notification, notifyQuery, splitSqliteDialect } from "./sqlite-split-dialect.js";
import { inMemorySqliteSql, sqliteSql } from "./sqlite-sql.js";
import { startupSqliteDialect } from "./sqlite-startup-dialect.js";
import { SqliteWriter } from "./sqlite-writer.js";

const inMemory = "memory://";
/** The database's file in the data folder; SQLite keeps `-wal` and `-shm` files beside it. */
const databaseFileName = "server.db";
/**
 * How long a statement waits for a lock another connection holds before
 * failing with SQLITE_BUSY (UNAVAILABLE for the call). Only this server
 * writes (data-dir-lock.ts), and in WAL mode readers (a backup, the sqlite3
 * shell) never block it, nor it them; only another writer can (the sqlite3
 * shell writing). The writer waits on its own thread; the reader on the
 * event loop almost never waits (WAL), but if it does, it sleeps there, so
 * the wait is short.
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
 * in WAL mode. Writes run on a thread of their own (sqlite-writer.ts), so
 * the fsync of a COMMIT never stalls the event loop, and transactions that
 * wait for each other share one COMMIT (group commit, see
 * sqlite-writer-worker.ts); reads outside a transaction run on the event
 * loop, on a connection of their own, over WAL (sqlite-split-dialect.ts).
 * memory:// keeps one connection on the event loop: an in-memory database
 * has no fsync to move away, and two connections could only share it
 * through SQLite's shared cache, which has table locks instead of WAL.
 * Only one process may open a data folder at a time (data-dir-lock.ts), so
 * order changes go to listeners in this process only, right after each
 * commit.
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
  const channels = new Map<string, Set<(payload: string) => void>>();
  const deliver = (sent: readonly Notification[]) => {
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
  let opened: Opened;
  try {
    opened = memory ? openInMemory(deliver) : await openSplit(file, options, deliver);
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
  const { dialect, adminDialect } = opened;
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
    adminDialect,
    callDialect: dialect,
    migrations: sqliteMigrations,
    sql: memory ? inMemorySqliteSql : sqliteSql,
    connections: opened.connections,
    sharedPool: undefined,
    health: new HealthState(true),
    currentSchema: () => Promise.resolve(undefined),
    listening: true,
    async listen(channel, { onPayload }) {
      const handlers = channels.get(channel) ?? new Set();
      handlers.add(onPayload);
      channels.set(channel, handlers);
      // Changes stay in this process: delivering them costs nothing when nobody watches.
      return { want: async () => {} };
    },
    publish: (tx: Transaction<Tables>, channel: string, payload: string) => opened.publish(tx, channel, payload),
    reportFailure,
    whileStarting: (_what, step) => step(),
    async close() {
      await opened.close();
      await unlock();
    },
  };
}

/**
 * Servers before this one kept the embedded database in PGlite's folder
 * (`<DATA_DIR>/pglite` by default, or DATA_DIR itself). Nothing is moved
 * or deleted: say once per start where the data now is.
 */
interface Opened {
  readonly dialect: Dialect;
  /** For the migrations at start-up. */
  readonly adminDialect: Dialect;
  readonly connections: ConnectionStats;
  publish(tx: Transaction<Tables>, channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/** One connection on the event loop, for memory://. */
function openInMemory(deliver: (sent: readonly Notification[]) => void): Opened {
  const database = openConnection(":memory:", { synchronous: "full", busyTimeoutMs });
  // Changes published by the transaction under way, sent once it commits.
  let pending: Notification[] = [];
  const dialect = nodeSqliteDialect(database, {
    onCommit: () => {
      const sent = pending;
      pending = [];
      deliver(sent);
    },
    onRollback: () => (pending = []),
  });
  return {
    dialect,
    adminDialect: dialect,
    connections: { max: 1, total: 1, idle: 1, waiting: 0 },
    publish(_tx, channel, payload) {
      pending.push({ channel, payload });
      return Promise.resolve();
    },
    close: async () => closeConnection(database),
  };
}

/**
 * A reader on the event loop and the writer thread, for a file. The writer
 * thread starts with the first write after the server serves; the
 * migrations before run on connections of their own on the main thread
 * (sqlite-startup-dialect.ts), while nothing else uses the file.
 */
async function openSplit(file: string, options: SqliteOptions, deliver: (sent: readonly Notification[]) => void): Promise<Opened> {
  const connect = () => openConnection(file, { synchronous: options.synchronous, busyTimeoutMs });
  // Opened now so that a damaged, unreadable or read-only file fails the start (openConnection checks).
  const reader = connect();
  try {
    // A write that reached the reader by mistake fails rather than bypassing the writer's ordering.
    reader.exec("pragma query_only = on");
    const published = new Map<number, Notification[]>();
    const onCommitted = (tx: number, notices: readonly Notification[]) => {
      const sent = published.get(tx);
      published.delete(tx);
      if (sent !== undefined) deliver(sent);
      deliver(notices);
    };
    let starting: Promise<SqliteWriter> | undefined;
    let closed = false;
    const writer: { started: SqliteWriter | undefined } & LazyWriter = {
      started: undefined,
      start() {
        if (closed) return Promise.reject(new WriterGoneError("the database is closing"));
        starting ??= SqliteWriter.start({ file, synchronous: options.synchronous, busyTimeoutMs }, onCommitted).then(
          (started) => (writer.started = started),
          (error: unknown) => {
            starting = undefined;
            throw error;
          },
        );
        return starting;
      },
    };
    return {
      dialect: splitSqliteDialect(reader, writer, published),
      adminDialect: startupSqliteDialect(connect),
      // The reader is never busy between calls; the writer is while it has transactions, one running and the rest waiting.
      connections: {
        max: 2,
        get total() {
          return writer.started === undefined ? 1 : 2;
        },
        get idle() {
          return (writer.started?.pending ?? 0) > 0 ? 1 : this.total;
        },
        get waiting() {
          return Math.max(0, (writer.started?.pending ?? 0) - 1);
        },
      },
      async publish(tx, channel, payload) {
        await tx.executeQuery(notifyQuery(channel, payload));
      },
      async close() {
        closed = true;
        const started = await starting?.catch(() => undefined);
        await started?.close();
        closeConnection(reader);
      },
    };
  } catch (error) {
    closeConnection(reader);
    throw error;
  }
}

function closeConnection(database: DatabaseSync): void {
  if (database.isOpen) database.close();
}

function reportOldEngine(dataDir: string, file: string, isNew: boolean, logger: Logger): void {
  const old = [path.join(dataDir, "pglite"), dataDir].find((folder) => existsSync(path.join(folder, "PG_VERSION")));
  if (old === undefined) return;
  logger[isNew ? "warn" : "info"](
    { oldFolder: old, file },
    `the embedded database engine changed from PGlite to SQLite: ${old} is left untouched (its data was not carried over; remove it once you no longer need it), and the database is now ${file}`,
  );
}
