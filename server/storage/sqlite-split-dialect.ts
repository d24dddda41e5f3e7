import type { DatabaseSync } from "node:sqlite";
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";
import { bindable } from "./node-sqlite-dialect.js";
import { StatementCache } from "./sqlite-connection.js";
import type { SqliteWriter, WriteResult } from "./sqlite-writer.js";
import type { Notification } from "./sqlite-writer-protocol.js";

export type { Notification } from "./sqlite-writer-protocol.js";

/**
 * The writer thread, started by the first write rather than with the server
 * (a worker thread is a V8 heap of its own, some 12 MB of RSS): a server
 * only read from never starts it.
 */
export interface LazyWriter {
  /** The writer once started. */
  readonly started: SqliteWriter | undefined;
  /** Starts the writer, or waits for the start under way; a start that failed is tried again by the next write. */
  start(): Promise<SqliteWriter>;
}

/**
 * The statement `notifyQuery` compiles to. SQLite has no NOTIFY: the driver
 * keeps the payload with its transaction and never sends this to SQLite.
 * Traces show it as the NOTIFY it stands for.
 */
const notifySql = "notify (delivered after commit)";

/** Queues `payload` for the listeners of `channel`, to be delivered if and only if the transaction it runs in commits. */
export function notifyQuery(channel: string, payload: string): CompiledQuery {
  return CompiledQuery.raw(notifySql, [channel, payload]);
}

/**
 * Kysely over two connections to one SQLite file in WAL mode: a reader on
 * the main thread and a writer on its own thread (sqlite-writer.ts).
 * Transactions and every statement that may write go to the writer, as
 * messages; a read outside a transaction runs at once, synchronously, on
 * the reader, and sees every transaction whose commit was acknowledged
 * (a WAL reader sees the latest commit when its read begins). Many
 * connections may be acquired at once: the writer runs their transactions
 * one at a time, in the order they began.
 *
 * `published` holds each open transaction's notifications by its number;
 * the writer's commit callback takes them out and delivers them.
 */
export function splitSqliteDialect(reader: DatabaseSync, writer: LazyWriter, published: Map<number, Notification[]>): Dialect {
  const statements = new StatementCache(reader);
  return {
    createAdapter: (): DialectAdapter => new SplitAdapter(),
    createQueryCompiler: (): QueryCompiler => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => new SqliteIntrospector(db),
    createDriver: (): Driver => new SplitDriver(statements, writer, published),
  };
}

/**
 * SQLite's, but without Kysely's lock around the one connection: the writer
 * orders the transactions, and reads need no turn. (Migrations, which this
 * would leave unlocked, run in one transaction, and one process at a time
 * opens the file.)
 */
class SplitAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

class SplitDriver implements Driver {
  /**
   * Connections released, lent again before new ones are made: Kysely (and
   * the query metrics' wrapper) remember each connection they are lent,
   * which for a new object per query would be work for every garbage collection.
   */
  private readonly idle: SplitConnection[] = [];

  constructor(
    private readonly statements: StatementCache,
    private readonly writer: LazyWriter,
    private readonly published: Map<number, Notification[]>,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.idle.pop() ?? new SplitConnection(this.statements, this.writer, this.published);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    own(connection).tx = (this.writer.started ?? (await this.writer.start())).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const split = own(connection);
    const tx = split.tx;
    if (tx === undefined) throw new Error("COMMIT outside a transaction");
    try {
      await started(this.writer).commit(tx);
      split.tx = undefined;
    } finally {
      this.published.delete(tx);
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const split = own(connection);
    const tx = split.tx;
    if (tx === undefined) return;
    split.tx = undefined;
    this.published.delete(tx);
    await started(this.writer).rollback(tx);
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quote(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quote(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${quote(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const split = own(connection);
    // One that a failed COMMIT left in its transaction is not lent again.
    if (split.tx === undefined && this.idle.length < maxIdleConnections) this.idle.push(split);
  }

  // The engine closes the connections and the writer.
  async destroy(): Promise<void> {}
}

/** As many as transactions once ran at the same time, up to this many. */
const maxIdleConnections = 256;

/** The writer inside a transaction: its BEGIN started it. */
function started(writer: LazyWriter): SqliteWriter {
  if (writer.started === undefined) throw new Error("a transaction without the writer thread");
  return writer.started;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function own(connection: DatabaseConnection): SplitConnection {
  if (!(connection instanceof SplitConnection)) throw new Error("not a connection of this driver");
  return connection;
}

class SplitConnection implements DatabaseConnection {
  /** The writer's number for the transaction under way on this connection. */
  tx: number | undefined;

  constructor(
    private readonly statements: StatementCache,
    private readonly writer: LazyWriter,
    private readonly published: Map<number, Notification[]>,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { tx } = this;
    if (compiled.sql === notifySql) {
      if (tx === undefined) throw new Error("an order change can only be published inside a transaction");
      const [channel, payload] = compiled.parameters as [string, string];
      const list = this.published.get(tx) ?? [];
      list.push({ channel, payload });
      this.published.set(tx, list);
      return { rows: [] };
    }
    const params = bindable(compiled.parameters);
    if (tx !== undefined) return asQueryResult<R>(await started(this.writer).query(tx, compiled.sql, params));
    if (!isRead(compiled)) return asQueryResult<R>(await (this.writer.started ?? (await this.writer.start())).write(compiled.sql, params));
    const { statement, reader } = this.statements.get(compiled.sql);
    if (reader) return { rows: statement.all(...params) as R[] };
    return asQueryResult<R>({ rows: undefined, ...statement.run(...params) });
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (this.tx !== undefined || !isRead(compiled)) throw new Error("only reads outside a transaction can be streamed from SQLite");
    const { statement } = this.statements.get(compiled.sql);
    for (const row of statement.iterate(...bindable(compiled.parameters))) yield { rows: [row as R] };
  }
}

/** A SELECT, built or raw: it cannot write, so the reader may run it (the reader refuses writes: query_only). */
function isRead({ query, sql }: CompiledQuery): boolean {
  return SelectQueryNode.is(query) || (query.kind === "RawNode" && /^\s*select\b/i.test(sql));
}

function asQueryResult<R>({ rows, changes, lastInsertRowid }: WriteResult): QueryResult<R> {
  if (rows !== undefined) return { rows: rows as R[] };
  return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
}
