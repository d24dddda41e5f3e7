import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import {
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteStatement,
  type TransactionSettings,
} from "kysely";

/**
 * Kysely's SqliteDialect over Node's own SQLite (`node:sqlite`). Kysely
 * expects better-sqlite3's shape: statements that say whether they return
 * rows, and that take their parameters as one array. Kysely runs one query
 * at a time on the single connection (its adapter declares no concurrent
 * connections), so a transaction has the connection to itself from BEGIN to
 * COMMIT.
 *
 * `onCommit` runs right after each transaction commits and `onRollback`
 * after one rolls back, still inside Kysely's turn on the connection: what
 * they do happens in commit order, before the next transaction starts.
 */
export function nodeSqliteDialect(database: DatabaseSync, hooks: { onCommit(): void; onRollback(): void }): SqliteDialect {
  return new CommitAwareDialect(database, hooks);
}

class CommitAwareDialect extends SqliteDialect {
  constructor(
    private readonly database: DatabaseSync,
    private readonly hooks: { onCommit(): void; onRollback(): void },
  ) {
    super({ database: asKyselyDatabase(database) });
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const { database, hooks } = this;
    return {
      init: (options) => driver.init(options),
      acquireConnection: (options) => driver.acquireConnection(options),
      releaseConnection: (connection, options) => driver.releaseConnection(connection, options),
      destroy: () => driver.destroy(),
      beginTransaction: (connection: DatabaseConnection, settings: TransactionSettings) => driver.beginTransaction(connection, settings),
      async commitTransaction(connection) {
        // A COMMIT that fails (a full disk, say) is followed by Kysely's rollback.
        await driver.commitTransaction(connection);
        hooks.onCommit();
      },
      async rollbackTransaction(connection) {
        try {
          // Some failures (SQLITE_FULL, SQLITE_IOERR) roll the transaction back by themselves.
          if (database.isTransaction) await driver.rollbackTransaction(connection);
        } finally {
          hooks.onRollback();
        }
      },
      savepoint: (connection, name, compile) => required(driver.savepoint)(connection, name, compile),
      rollbackToSavepoint: (connection, name, compile) => required(driver.rollbackToSavepoint)(connection, name, compile),
      releaseSavepoint: (connection, name, compile) => required(driver.releaseSavepoint)(connection, name, compile),
    };
  }
}

function required<F extends (...args: never[]) => unknown>(method: F | undefined): F {
  if (method === undefined) throw new Error("the SQLite driver has no savepoints");
  return method;
}

/** The database as Kysely's SqliteDialect expects it. */
function asKyselyDatabase(database: DatabaseSync): SqliteDatabase {
  return {
    close: () => {
      if (database.isOpen) database.close();
    },
    prepare: (sql) => new Statement(database.prepare(sql)),
  };
}

class Statement implements SqliteStatement {
  /** Whether the statement returns rows: a SELECT, or a write with RETURNING. */
  readonly reader: boolean;

  constructor(private readonly statement: StatementSync) {
    this.reader = statement.columns().length > 0;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.statement.all(...bindable(parameters));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.statement.run(...bindable(parameters));
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.statement.iterate(...bindable(parameters));
  }
}

/**
 * SQLite has no boolean type (true is 1), and Node 22 refuses to bind one.
 * Anything else SQLite cannot store is refused here with the type named,
 * rather than deep in node:sqlite.
 */
export function bindable(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value, index) => {
    switch (typeof value) {
      case "boolean":
        return value ? 1 : 0;
      case "string":
      case "number":
      case "bigint":
        return value;
      default:
        if (value === null || value instanceof Uint8Array) return value;
        throw new TypeError(`SQLite cannot store parameter ${index + 1} (${value instanceof Date ? "a Date" : typeof value}) as it is`);
    }
  });
}
