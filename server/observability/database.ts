import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";
import type { StorageHooks } from "../storage/hooks.js";
import type { ServerMetrics } from "./metrics.js";

/** Runs one query, `run`, for an observer that may time or trace it. */
export type QueryObserver = <T>(query: { operation: string; text: string }, run: () => Promise<T>) => Promise<T>;

/** The statements Kysely sends, as `db.operation.name`; anything else is "OTHER" so the label stays bounded. */
const operations = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"]);

export function operationOf(sql: string): string {
  const word = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toUpperCase() ?? "";
  return operations.has(word) ? word : "OTHER";
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
              .child({ db_system_name: "postgresql", db_operation_name: query.operation, error_type: errorType })
              .observe((performance.now() - started) / 1000);
          }
        };
  // The span, when there is one, covers the timing too.
  const observe: QueryObserver | undefined =
    timed !== undefined && traced !== undefined ? (query, run) => traced(query, () => timed(query, run)) : (timed ?? traced);
  return {
    wrapCallPool: (pool) => (observe === undefined ? pool : observedPool(pool, observe)),
    watchPool(pool, engine) {
      if (metrics === undefined) return;
      const name = engine;
      metrics.gaugeAtScrape({
        name: "db_client_connection_count",
        help: "Database connections in the pool, by state: used (lent to a query or transaction) or idle.",
        labelNames: ["db_client_connection_pool_name", "db_client_connection_state"],
        read: (gauge) => {
          gauge.set({ db_client_connection_pool_name: name, db_client_connection_state: "idle" }, pool.idleCount);
          gauge.set({ db_client_connection_pool_name: name, db_client_connection_state: "used" }, pool.totalCount - pool.idleCount);
        },
      });
      metrics.gaugeAtScrape({
        name: "db_client_connection_max",
        help: "Most connections the pool opens (DATABASE_POOL_SIZE; 1 for the embedded database).",
        labelNames: ["db_client_connection_pool_name"],
        read: (gauge) => gauge.set({ db_client_connection_pool_name: name }, pool.options.max ?? 10),
      });
      metrics.gaugeAtScrape({
        name: "db_client_connection_pending_requests",
        help: "Queries and transactions waiting for a free connection.",
        labelNames: ["db_client_connection_pool_name"],
        read: (gauge) => gauge.set({ db_client_connection_pool_name: name }, pool.waitingCount),
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

function observedPool(pool: PostgresPool, observe: QueryObserver): PostgresPool {
  return {
    options: pool.options,
    connect: async () => new ObservedClient(await pool.connect(), observe),
    end: () => pool.end(),
  };
}

class ObservedClient implements PostgresPoolClient {
  constructor(
    private readonly client: PostgresPoolClient,
    private readonly observe: QueryObserver,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    query: string | PostgresCursor<R>,
    parameters: ReadonlyArray<unknown> = [],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof query !== "string") return this.client.query(query);
    return this.observe({ operation: operationOf(query), text: query }, () => this.client.query<R>(query, parameters));
  }

  release(destroy?: boolean): void {
    this.client.release(destroy);
  }
}
