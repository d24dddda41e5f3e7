import type { DatabaseSync } from "node:sqlite";
import {
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type TransactionSettings,
} from "kysely";
import { nodeSqliteDialect } from "./node-sqlite-dialect.js";

/**
 * Kysely over connections of the main thread that live as long as Kysely
 * holds them: each one is opened when acquired and closed when released.
 * For the migrations before the server serves: they then need no writer
 * thread (a worker thread is a V8 heap of its own, some 12 MB of RSS, which
 * a server only read from never starts), and nothing of them stays open.
 */
export function startupSqliteDialect(open: () => DatabaseSync): Dialect {
  return {
    createAdapter: (): DialectAdapter => new SqliteAdapter(),
    createQueryCompiler: (): QueryCompiler => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => new SqliteIntrospector(db),
    createDriver: (): Driver => new ConnectionPerUse(open),
  };
}

const noHooks = { onCommit: () => {}, onRollback: () => {} };

class ConnectionPerUse implements Driver {
  /** The driver of each connection Kysely holds, which owns it. */
  private readonly drivers = new Map<DatabaseConnection, Driver>();

  constructor(private readonly open: () => DatabaseSync) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const driver = nodeSqliteDialect(this.open(), noHooks).createDriver();
    await driver.init();
    const connection = await driver.acquireConnection();
    this.drivers.set(connection, driver);
    return connection;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const driver = this.driverOf(connection);
    this.drivers.delete(connection);
    await driver.releaseConnection(connection);
    // Closes the connection.
    await driver.destroy();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.driverOf(connection).beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driverOf(connection).commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driverOf(connection).rollbackTransaction(connection);
  }

  async destroy(): Promise<void> {
    for (const [connection, driver] of this.drivers) {
      this.drivers.delete(connection);
      await driver.destroy();
    }
  }

  private driverOf(connection: DatabaseConnection): Driver {
    const driver = this.drivers.get(connection);
    if (driver === undefined) throw new Error("not a connection of this driver");
    return driver;
  }
}
