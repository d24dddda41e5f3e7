import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult } from "kysely";
import type { EngineKind } from "../storage/engine.js";
import type { StorageHooks } from "../storage/hooks.js";
import type { ServerMetrics } from "./metrics.js";

/** Runs one query, `run`, for an observer that may time or trace it. */
export type QueryObserver = <T>(query: { system: DbSystem; operation: string; text: string }, run: () => Promise<T>) => Promise<T>;

/** `db.system.name` (OpenTelemetry semantic conventions). */
export type DbSystem = "postgresql" | "sqlite";

const systems: Record<EngineKind, DbSystem> = { postgres: "postgresql", sqlite: "sqlite" };

/** The statements Kysely sends, as `db.operation.name`; anything else is "OTHER" so the label stays bounded. */
const operations = new Set([
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "WITH",
  "BEGIN",
  "COMMIT",
  "ROLLBACK",
  "SAVEPOINT",
  "RELEASE",
  "NOTIFY",
]);

/** Statements' operations as found: calls send the same few hundred texts again and again. */
const operationsOfText = new Map<string, string>();
const rememberedTextsLimit = 500;

export function operationOf(sql: string): string {
  const known = operationsOfText.get(sql);
  if (known !== undefined) return known;
  const word = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toUpperCase() ?? "";
  const operation = operations.has(word) ? word : "OTHER";
  if (operationsOfText.size < rememberedTextsLimit) operationsOfText.set(sql, operation);
  return operation;
}

/**
 * Storage hooks that report the pool's connections at each scrape (semconv
 * db.client.connection.*) and time every query calls make
 * (db.client.operation.duration); `traced` adds a span per query.
 */
export function observeStorage(metrics: ServerMetrics | undefined, traced: QueryObserver | undefined): StorageHooks {
  const timed: QueryObserver | undefined =
    metrics === undefined
      ? undefined
      : async (query, run) => {
          const started = performance.now();
          let errorType = "";
          try {
            return await run();
          } catch (error) {
            errorType = errorTypeOf(error);
            throw error;
          } finally {
            metrics.queryDuration
              .child({ db_system_name: query.system, db_operation_name: query.operation, error_type: errorType })
              .observe((performance.now() - started) / 1000);
          }
        };
  // The span, when there is one, covers the timing too.
  const observe: QueryObserver | undefined =
    timed !== undefined && traced !== undefined ? (query, run) => traced(query, () => timed(query, run)) : (timed ?? traced);
  return {
    wrapCallDialect: (dialect, engine) => (observe === undefined ? dialect : observedDialect(dialect, systems[engine], observe)),
    watchConnections(connections, engine) {
      if (metrics === undefined) return;
      const name = engine;
      metrics.gaugeAtScrape({
        name: "db_client_connection_count",
        help: "Database connections in the pool, by state: used (lent to a query or transaction) or idle.",
        labelNames: ["db_client_connection_pool_name", "db_client_connection_state"],
        read: (gauge) => {
          gauge.set({ db_client_connection_pool_name: name, db_client_connection_state: "idle" }, connections.idle);
          gauge.set({ db_client_connection_pool_name: name, db_client_connection_state: "used" }, connections.total - connections.idle);
        },
      });
      metrics.gaugeAtScrape({
        name: "db_client_connection_max",
        help: "Most connections the pool opens (DATABASE_POOL_SIZE; 1 for the embedded database).",
        labelNames: ["db_client_connection_pool_name"],
        read: (gauge) => gauge.set({ db_client_connection_pool_name: name }, connections.max),
      });
      metrics.gaugeAtScrape({
        name: "db_client_connection_pending_requests",
        help: "Queries and transactions waiting for a free connection.",
        labelNames: ["db_client_connection_pool_name"],
        read: (gauge) => gauge.set({ db_client_connection_pool_name: name }, connections.waiting),
      });
    },
  };
}

/** `error.type`: the error's class or code (a PostgreSQL SQLSTATE such as 23505, or QueryTimeoutError), bounded to a short word. */
function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  const name = error instanceof Error ? error.constructor.name : "";
  return /^\w{1,40}$/.test(name) ? name : "_OTHER";
}

/** The dialect with every query its connections run given to `observe`, transaction statements included. */
function observedDialect(dialect: Dialect, system: DbSystem, observe: QueryObserver): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => observedDriver(dialect.createDriver(), system, observe),
  };
}

function observedDriver(driver: Driver, system: DbSystem, observe: QueryObserver): Driver {
  // The driver always gets its own connection back: Kysely's PostgreSQL
  // driver reaches private methods of it (to release it, or to discard it
  // when a ROLLBACK fails). Transaction statements are observed here, as the
  // statements they are.
  // One wrapper per connection, for as long as it lives: Kysely remembers
  // (in a WeakSet) every connection it is lent, so a new wrapper per query
  // would be a new entry per query, work for every garbage collection.
  const observed = new WeakMap<DatabaseConnection, ObservedConnection>();
  const unwrap = (connection: DatabaseConnection) => (connection instanceof ObservedConnection ? connection.inner : connection);
  const statement = <T>(operation: string, run: () => Promise<T>) => observe({ system, operation, text: operation.toLowerCase() }, run);
  return {
    init: (options) => driver.init(options),
    async acquireConnection(options) {
      const connection = await driver.acquireConnection(options);
      let wrapped = observed.get(connection);
      if (wrapped === undefined) {
        wrapped = new ObservedConnection(connection, system, observe);
        observed.set(connection, wrapped);
      }
      return wrapped;
    },
    beginTransaction: (connection, settings) => statement("BEGIN", () => driver.beginTransaction(unwrap(connection), settings)),
    commitTransaction: (connection) => statement("COMMIT", () => driver.commitTransaction(unwrap(connection))),
    rollbackTransaction: (connection) => statement("ROLLBACK", () => driver.rollbackTransaction(unwrap(connection))),
    savepoint:
      driver.savepoint &&
      ((connection, name, compile) =>
        statement("SAVEPOINT", () => driver.savepoint?.(unwrap(connection), name, compile) ?? Promise.resolve())),
    rollbackToSavepoint:
      driver.rollbackToSavepoint &&
      ((connection, name, compile) =>
        statement("ROLLBACK", () => driver.rollbackToSavepoint?.(unwrap(connection), name, compile) ?? Promise.resolve())),
    releaseSavepoint:
      driver.releaseSavepoint &&
      ((connection, name, compile) =>
        statement("RELEASE", () => driver.releaseSavepoint?.(unwrap(connection), name, compile) ?? Promise.resolve())),
    releaseConnection: (connection, options) => driver.releaseConnection(unwrap(connection), options),
    destroy: () => driver.destroy(),
  };
}

/** A connection whose queries are given to `observe`; the driver gets `inner` back. */
class ObservedConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly system: DbSystem,
    private readonly observe: QueryObserver,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.observe({ system: this.system, operation: operationOf(query.sql), text: query.sql }, () =>
      this.inner.executeQuery<R>(query),
    );
  }

  streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}
