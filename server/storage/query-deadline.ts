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
  const statements = new StatementNames();
  // One DeadlineClient per pooled connection, for as long as it lives: Kysely
  // keeps its own wrapper per client it is lent, so a new one per query
  // would cost a new wrapper of Kysely's, and a WeakMap entry, every query.
  const clients = new WeakMap<pg.PoolClient, DeadlineClient>();
  return {
    options: pool.options,
    connect: async () => {
      const client = await pool.connect();
      let deadlineClient = clients.get(client);
      if (deadlineClient === undefined) {
        deadlineClient = new DeadlineClient(client, timeoutMs, statements);
        clients.set(client, deadlineClient);
      }
      return deadlineClient;
    },
    end: () => pool.end(),
  };
}

class DeadlineClient implements PostgresPoolClient {
  /** Set once a query ran out of time and the connection was cut. */
  private dropped = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
    private readonly statements: StatementNames,
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
    const name = this.statements.nameOf(query);
    const values = [...parameters];
    const sent = name === undefined ? this.client.query(query, values) : this.client.query({ name, text: query, values });
    const answer = sent as Promise<unknown> as Promise<PostgresQueryResult<R>>;
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

/** Most statements given a name: Kysely builds a bounded set of them, but nothing should grow without bound. */
const namedStatementsLimit = 200;

/**
 * Names for the statements calls send, so each connection has PostgreSQL
 * parse and plan a statement once and then only binds new parameters to it
 * (node-postgres prepares a named statement on a connection the first time
 * it sends it there). Statements past the limit stay unnamed.
 */
class StatementNames {
  private readonly names = new Map<string, string>();

  nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= namedStatementsLimit) return known;
    const name = `s${this.names.size}`;
    this.names.set(text, name);
    return name;
  }
}
