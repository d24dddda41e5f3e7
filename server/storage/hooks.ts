import type { PostgresPool } from "kysely";
import type pg from "pg";

/**
 * What an observer (metrics, traces) may attach to the database without the
 * storage code knowing about it: a wrapper around the pool that calls use,
 * and a look at the connection pool.
 */
export interface StorageHooks {
  /** Wraps the pool calls use (not the migrations'): a wrapper may time and trace every query. */
  wrapCallPool(pool: PostgresPool, engine: "pglite" | "postgres"): PostgresPool;
  /** The node-postgres pool behind both, to report how many connections are in use. */
  watchPool(pool: pg.Pool, engine: "pglite" | "postgres"): void;
}

export const noStorageHooks: StorageHooks = {
  wrapCallPool: (pool) => pool,
  watchPool: () => {},
};
