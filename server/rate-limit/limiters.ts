import type { PostgresPool } from "kysely";
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterRes, RLWrapperTimeouts } from "rate-limiter-flexible";
import type { RateLimitConfig } from "../config.js";

/** One budget: `points` calls per caller and window. */
export interface Limiter {
  readonly points: number;
  readonly windowMs: number;
  /**
   * Spends one point of `key`'s budget. Resolves while there is budget left;
   * rejects with a RateLimiterRes (saying when the window ends) when not.
   */
  consume(key: string): Promise<RateLimiterRes>;
}

/** The two budgets every caller has; undefined means no limit. */
export interface RateLimiters {
  /** Calls that change data. */
  readonly writes: Limiter | undefined;
  /** Every other call, health checks excepted. */
  readonly reads: Limiter | undefined;
  /** Failed authentications per client address (see auth-failures.ts). */
  readonly authFailures: Limiter | undefined;
}

export interface Budget {
  readonly name: "writes" | "reads" | "authFailures";
  readonly points: number;
  readonly windowMs: number;
}

/**
 * Makes the limiter for one budget. Which store it counts in is decided where
 * the database is opened: the interceptor only consumes.
 */
export type LimiterFactory = (budget: Budget) => Promise<Limiter>;

function memory({ name, points, windowMs }: Budget): RateLimiterMemory {
  return new RateLimiterMemory({ keyPrefix: name, points, duration: windowMs / 1000 });
}

/** Counters in this process: right for one server (the embedded database is one process anyway). */
export const memoryLimiters: LimiterFactory = async (budget) => {
  const limiter = memory(budget);
  return { points: budget.points, windowMs: budget.windowMs, consume: (key) => limiter.consume(key) };
};

/** The table RateLimiterPostgres keeps its counters in, beside the server's own tables. */
export const rateLimitTable = "rate_limits";

/** Longest a call waits for the shared counter before counting in memory instead. */
const sharedCounterTimeoutMs = 500;

/**
 * Counters in the PostgreSQL every replica shares, so a caller's budget is
 * one budget whichever replica answers. rate-limiter-flexible creates its
 * table itself (CREATE TABLE IF NOT EXISTS in the connection's search_path,
 * tolerating replicas that race to create it) and upserts one row per caller
 * and window, through the pool the server's calls use (so a query that gets
 * no answer is cut by its deadline rather than holding a connection). A caller over budget is remembered in
 * memory until its window ends, so refused calls cost no query.
 *
 * While PostgreSQL is away (`reachable` says so, or a query fails or takes
 * too long) each replica counts in memory instead, the library's insurance
 * limiter: calls that need no database keep being answered at once.
 */
export function postgresLimiters(pool: PostgresPool, reachable: () => boolean): LimiterFactory {
  return (budget) =>
    new Promise((resolve, reject) => {
      const insurance = memory(budget);
      const onCreated = (error?: Error) => {
        if (error) return reject(error);
        const timed = new RLWrapperTimeouts({ limiter: shared, timeoutMs: sharedCounterTimeoutMs, insuranceLimiter: insurance });
        resolve({
          points: budget.points,
          windowMs: budget.windowMs,
          consume: (key) => (reachable() ? timed : insurance).consume(key),
        });
      };
      const shared: RateLimiterPostgres = new RateLimiterPostgres(
        {
          storeClient: queryable(pool),
          storeType: "pool",
          tableName: rateLimitTable,
          keyPrefix: budget.name,
          points: budget.points,
          duration: budget.windowMs / 1000,
          inMemoryBlockOnConsumed: budget.points + 1,
          insuranceLimiter: insurance,
        },
        onCreated,
      );
    });
}

/**
 * What RateLimiterPostgres asks of a pg.Pool, `query({ text, values })`, on
 * Kysely's pool interface: one pooled connection per query. (The statement
 * names the library gives for preparing are left out: one less state per
 * connection, for a single-row upsert.)
 */
function queryable(pool: PostgresPool) {
  return {
    async query({ text, values = [] }: { text: string; values?: readonly unknown[] }) {
      const client = await pool.connect();
      try {
        return await client.query(text, values);
      } finally {
        client.release();
      }
    },
  };
}

/** The configured budgets, each made by its factory; a budget of 0 has no limiter. */
export async function createRateLimiters(
  config: RateLimitConfig,
  factories: { readonly [name in Budget["name"]]: LimiterFactory },
): Promise<RateLimiters> {
  const make = (name: Budget["name"], points: number) =>
    points === 0 ? Promise.resolve(undefined) : factories[name]({ name, points, windowMs: config.windowMs });
  // One after the other: both may create the same table.
  const writes = await make("writes", config.writes);
  const reads = await make("reads", config.reads);
  const authFailures = await make("authFailures", config.authFailures);
  return { writes, reads, authFailures };
}
