import type { ColumnType, Generated } from "kysely";

/**
 * The tables, as Kysely sees them on either engine. Where the engines store
 * a value differently (times, booleans, the catalogue version), the type is
 * what either gives, and the engine's EngineSql (engine.ts) reads and writes
 * it. On PostgreSQL the create and update times are `timestamptz(3)`,
 * milliseconds, like JavaScript dates; an order's date is `timestamptz(6)`,
 * microseconds, which a Date would lose: it is read as microseconds since
 * the epoch, never through a Date. On SQLite all three are integers,
 * microseconds since the epoch.
 */
export interface Tables {
  movies: MovieRow;
  movie_catalogue: MovieCatalogueRow;
  orders: OrderRow;
}

/** One row: the version of the movies table, counted up by every statement that changes it. */
export interface MovieCatalogueRow {
  /** int8, which node-postgres reads as text; an integer in SQLite. */
  version: ColumnType<string | number, never, never>;
}

export interface MovieRow {
  id: string;
  title: string;
  director: string;
  rating: number;
}

export interface OrderRow {
  id: string;
  /** The token subject that created it; "" (anonymousOwner) without a token. */
  owner: string;
  name: string;
  /** A boolean; 0 or 1 in SQLite. */
  completed: ColumnType<boolean | number, boolean, boolean>;
  date: ColumnType<never, unknown, unknown>;
  create_time: ColumnType<unknown, never, never>;
  update_time: ColumnType<unknown, never, unknown>;
  version: Generated<number>;
  /** Set when the client sent an idempotency key; unique per owner. */
  idempotency_key: string | null;
  /** What the creating request asked for, to tell a retry from a reused key. */
  request_fingerprint: string | null;
}
