import type { AliasedRawBuilder, Dialect, Kysely, PostgresPool, RawBuilder, Transaction } from "kysely";
import type { Migration } from "kysely/migration";
import type { Instant } from "../domain/instant.js";
import type { OrderChangeType } from "../domain/orders.js";
import type { DatabaseHealth } from "./health.js";
import type { Tables } from "./schema.js";

export type EngineKind = "sqlite" | "postgres";

/**
 * What the storage code needs from a database engine: Kysely dialects to
 * reach it, its schema history, the few pieces of SQL that differ between
 * engines (EngineSql), how order changes reach listeners, and its health.
 */
export interface Engine {
  readonly kind: EngineKind;
  /** For migrations: no time limit, since a schema change may rightly take long. */
  readonly adminDialect: Dialect;
  /** For serving calls: with PostgreSQL, a query that gets no answer in time fails (see query-deadline.ts). */
  readonly callDialect: Dialect;
  /** The schema's history on this engine, name for name the same as on the other. */
  readonly migrations: Record<string, Migration>;
  readonly sql: EngineSql;
  /** How many connections there are and how busy, for metrics. */
  readonly connections: ConnectionStats;
  /** With PostgreSQL, the pool calls use, for state every replica must share (rate limits); undefined for SQLite. */
  readonly sharedPool: PostgresPool | undefined;
  readonly health: DatabaseHealth;
  /** The schema migrations and tables live in (PostgreSQL); undefined where there is only one (SQLite). */
  currentSchema(db: Kysely<Tables>): Promise<string | undefined>;
  /**
   * Delivers every payload `publish` sends on `channel` (a plain lowercase
   * identifier) once its transaction commits, from any process using the
   * database, while the feed it resolves to is wanted (ChangeFeed.want).
   * `onLost` runs when the listening connection breaks (notifications may
   * be missed until it is back; it reconnects by itself). Resolves once
   * connected.
   */
  listen(channel: string, handlers: { onPayload(payload: string): void; onLost(error: Error): void }): Promise<ChangeFeed>;
  /** Sends `payload` to the listeners of `channel` if and only if `tx` commits, in commit order. */
  publish(tx: Transaction<Tables>, channel: string, payload: string): Promise<void>;
  /** True while notifications are being received. */
  readonly listening: boolean;
  /** A query just failed for want of the database: check it now, and log it once. */
  reportFailure(error: unknown): void;
  /**
   * Runs a step of opening the database, repeating it while the database
   * cannot be reached, for as long as the server may wait at start.
   */
  whileStarting<T>(what: string, step: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A channel's changes, received only while wanted. */
export interface ChangeFeed {
  /**
   * Whether this process needs the changes now (it has watchers). With
   * PostgreSQL, a connection receives them only while it LISTENs, and
   * receiving every change nobody here watches costs both sides CPU.
   * Resolves once in effect: with `wanted`, every change committed from
   * then on is delivered. Rejects when the database cannot be reached.
   */
  want(wanted: boolean): Promise<void>;
}

export interface ConnectionStats {
  readonly max: number;
  readonly total: number;
  readonly idle: number;
  /** Queries and transactions waiting for a connection. */
  readonly waiting: number;
}

/** A movie as one batch of the listing returns it. */
export type MovieTuple = [id: string, title: string, director: string, rating: number];

/**
 * The SQL that differs between the engines, each piece in one place per
 * engine (postgres-sql.ts, sqlite-sql.ts). Values the repositories read
 * through these pieces come back the same on both engines.
 */
export interface EngineSql {
  /**
   * The listing order's keys: the title with case ignored, then the id,
   * compared code point by code point (locale-independent, identical on
   * both engines).
   */
  readonly titleKey: RawBuilder<string>;
  readonly idKey: RawBuilder<string>;
  /** The title key of a given title, for the listing's next page. */
  titleKeyOf(title: string): RawBuilder<string>;
  /** Whether `column` contains `text`, case ignored the same way as for the order. */
  contains(column: "title" | "director", text: string): RawBuilder<boolean>;
  /** The rows of the subquery `batch` (id, title, director, rating), in its order, as one JSON array of arrays. */
  readonly batchAsJson: RawBuilder<unknown>;
  /** What batchAsJson gave, as tuples. */
  readBatch(value: unknown): MovieTuple[];
  /**
   * For movie lookups that share a query (see lookup-batch.ts): a condition
   * with one parameter, true of the ids in a list, and that parameter for a
   * list, so the statement's text is the same whatever the list.
   */
  readonly anyOfIds: { readonly condition: RawBuilder<boolean>; parameter(ids: readonly string[]): unknown };
  /** The catalogue version as read (migration 0005), as a decimal string. */
  readVersion(value: unknown): string;
  /** Whether a row may be locked for the rest of a transaction (PostgreSQL's FOR UPDATE); SQLite's transactions run one at a time. */
  readonly rowLocks: boolean;
  /** An order's date as stored. */
  dateValue(date: Instant): unknown;
  /** The transaction's time to the millisecond, as an order's date (the default date) and as create and update times. */
  readonly nowAsDate: RawBuilder<unknown>;
  readonly now: RawBuilder<unknown>;
  /** An order's date as microseconds since the epoch, in decimal text, exactly. */
  readonly dateMicros: RawBuilder<string>;
  /** A create or update time as stored, and back. */
  timeValue(time: Date): unknown;
  readTime(value: unknown): Date;
  readBoolean(value: unknown): boolean;
  /**
   * Where one statement can write an order and send its change: `notice` is
   * an expression that sends the change on `channel` when the statement's
   * transaction commits, in commit order; its payload is the repository's
   * (order-repository.ts, ChangePayload). `in` says where it goes:
   * "with", the write in a WITH and the notice in the SELECT over the rows
   * it returns, which have the repository's columns (date as date_micros;
   * PostgreSQL's pg_notify); "returning", the notice in the write's own
   * RETURNING, over the table's columns (SQLite, which allows no write in a
   * WITH; its writer thread's notify()). Undefined where a change is
   * published apart from the write, in a transaction (SQLite in memory).
   */
  readonly orderChangeNotice?: {
    readonly in: "with" | "returning";
    notice(channel: string, type: OrderChangeType): RawBuilder<unknown>;
  };
  /**
   * New orders as one table named `input`, from one array parameter per
   * column, so that one statement writes any number of them: CreateOrder
   * calls that arrive together then cost one statement and one commit
   * (PostgreSQL's unnest; order-repository.ts). Undefined where concurrent
   * writes are grouped otherwise: SQLite's writer thread commits them in
   * one transaction itself.
   */
  readonly newOrderRows?: (columns: NewOrderColumns) => AliasedRawBuilder<NewOrderRow, "input">;
}

/** A new order as newOrderRows gives it: `date` is null for an order the database dates. */
export interface NewOrderRow {
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  readonly completed: boolean;
  readonly date: unknown;
  readonly key: string | null;
  readonly fingerprint: string | null;
}

/** New orders column by column: value `i` of each is order `i`'s. */
export type NewOrderColumns = { readonly [column in keyof NewOrderRow]: ReadonlyArray<NewOrderRow[column]> };

/** 250 ms, 500 ms, 1 s, 2 s, then every 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 5_000);
}
