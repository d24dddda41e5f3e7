import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";
import type pg from "pg";
import { QueryTimeoutError } from "./failures.js";

/**
 * The pool as Kysely sees it, with a deadline on every query: one that gets
 * no answer within `timeoutMs` fails with QueryTimeoutError and its
 * connection is dropped at once. A half-dead connection (a network that went
 * silent, a server that stopped answering without closing anything) then
 * costs a call `timeoutMs`, not forever: TCP keepalive alone does not notice
 * while a request is unacknowledged, or while something in between still
 * acknowledges. Dropping the connection also fails whatever else waits on
 * it (a transaction's ROLLBACK, say) right away, and makes the pool discard
 * it rather than lend it out again with an answer still pending.
 */
export function withQueryDeadline(pool: pg.Pool, timeoutMs: number): PostgresPool {
  return {
    options: pool.options,
    connect: async () => new DeadlineClient(await pool.connect(), timeoutMs),
    end: () => pool.end(),
  };
}

class DeadlineClient implements PostgresPoolClient {
  /** Set once a query ran out of time and the connection was cut. */
  private dropped = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    query: string | PostgresCursor<R>,
    parameters: ReadonlyArray<unknown> = [],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely only passes cursors when configured with one; this server is not.
    if (typeof query !== "string") throw new TypeError("cursors are not supported on this pool");
    // The very result pg.Pool's clients give Kysely directly: pg types rows loosely, Kysely narrowly.
    const answer = this.client.query(query, [...parameters]) as Promise<unknown> as Promise<PostgresQueryResult<R>>;
    return this.withinDeadline(answer);
  }

  release(destroy?: boolean): void {
    // The cut connection notices it is closed only a moment later: until
    // then the pool would take it back as healthy and lend it out again.
    this.client.release(destroy === true || this.dropped);
  }

  private async withinDeadline<T>(answer: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new QueryTimeoutError(this.timeoutMs));
        this.dropped = true;
        this.client.connection.stream.destroy();
      }, this.timeoutMs);
    });
    try {
      // The race also takes care of `answer` failing later, once the connection is gone.
      return await Promise.race([answer, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
