import type { PostgresPool } from "kysely";
import type pg from "pg";
import type { DatabaseHealth } from "./health.js";

/**
 * What the storage code needs from a database engine. Both engines speak
 * PostgreSQL through a node-postgres pool, so one dialect and one set of
 * queries serve both; they differ in how they are opened and how
 * notifications reach this process.
 */
export interface Engine {
  readonly kind: "pglite" | "postgres";
  /** Connections without a time limit, for migrations: a schema change may rightly take long. */
  readonly pool: pg.Pool;
  /** The same connections for serving calls: with PostgreSQL, a query that gets no answer in time fails (see query-deadline.ts). */
  readonly callPool: PostgresPool;
  readonly health: DatabaseHealth;
  /**
   * Delivers every payload NOTIFY sends on `channel` (a plain lowercase
   * identifier), from any process using the database. `onLost` runs when
   * the listening connection breaks (notifications may be missed until it is
   * back; it reconnects by itself). Resolves once listening.
   */
  listen(channel: string, handlers: { onPayload(payload: string): void; onLost(error: Error): void }): Promise<void>;
  /** True while notifications are being received. */
  readonly listening: boolean;
  /** A query just failed for want of a connection: check the database now rather than at the next heartbeat. */
  reportFailure(error: unknown): void;
  /**
   * Runs a step of opening the database, repeating it while the database
   * cannot be reached, for as long as the server may wait at start.
   */
  whileStarting<T>(what: string, step: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** 250 ms, 500 ms, 1 s, 2 s, then every 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 5_000);
}
