import type pg from "pg";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres } from "rate-limiter-flexible";
import type { RateLimitConfig } from "../config.js";

/** The two budgets every caller has; undefined means no limit. */
export interface RateLimiters {
  /** Calls that change data. */
  readonly writes: RateLimiterAbstract | undefined;
  /** Every other call, health checks excepted. */
  readonly reads: RateLimiterAbstract | undefined;
}

export interface Budget {
  readonly name: "writes" | "reads";
  readonly points: number;
  readonly windowMs: number;
}

/**
 * Makes the limiter for one budget. Which store it counts in is the
 * storage layer's business: the interceptor only consumes.
 */
export type LimiterFactory = (budget: Budget) => Promise<RateLimiterAbstract>;

/** Counters in this process: right for one server (the embedded database is one process anyway). */
export const memoryLimiters: LimiterFactory = async ({ name, points, windowMs }) =>
  new RateLimiterMemory({ keyPrefix: name, points, duration: windowMs / 1000 });

/** The table RateLimiterPostgres keeps its counters in, beside the server's own tables. */
export const rateLimitTable = "rate_limits";

/**
 * Counters in the PostgreSQL every replica shares, so a caller's budget is
 * one budget whichever replica answers. rate-limiter-flexible creates its
 * table itself (CREATE TABLE IF NOT EXISTS, in the connection's search_path,
 * tolerating replicas that race to create it) and upserts one row per
 * caller and window through the server's pool. While PostgreSQL is away each
 * replica counts in memory instead (the library's insurance limiter), and a
 * caller over budget is remembered in memory until its window ends, so
 * refused calls cost no query.
 */
export function postgresLimiters(pool: pg.Pool): LimiterFactory {
  return ({ name, points, windowMs }) =>
    new Promise((resolve, reject) => {
      const duration = windowMs / 1000;
      const limiter: RateLimiterPostgres = new RateLimiterPostgres(
        {
          storeClient: pool,
          storeType: "pool",
          tableName: rateLimitTable,
          keyPrefix: name,
          points,
          duration,
          inMemoryBlockOnConsumed: points + 1,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
        },
        (error) => (error ? reject(error) : resolve(limiter)),
      );
    });
}

/** The configured budgets, made by `factory`; a budget of 0 has no limiter. */
export async function createRateLimiters(config: RateLimitConfig, factory: LimiterFactory): Promise<RateLimiters> {
  const make = (name: Budget["name"], points: number) =>
    points === 0 ? Promise.resolve(undefined) : factory({ name, points, windowMs: config.windowMs });
  // One after the other: both create the same table.
  const writes = await make("writes", config.writes);
  const reads = await make("reads", config.reads);
  return { writes, reads };
}
