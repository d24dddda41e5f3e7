import type { ColumnType, Generated } from "kysely";

/**
 * The tables, as Kysely sees them. The create and update times are
 * `timestamptz(3)`: milliseconds, like JavaScript dates. An order's date is
 * `timestamptz(6)`, microseconds, which a Date would lose: it is written as
 * RFC 3339 text and read as microseconds since the epoch (see
 * order-repository.ts), never through a Date.
 */
export interface Tables {
  movies: MovieRow;
  movie_catalogue: MovieCatalogueRow;
  orders: OrderRow;
}

/** One row: the version of the movies table, counted up by every statement that changes it. */
export interface MovieCatalogueRow {
  /** int8, which node-postgres reads as text. */
  version: ColumnType<string, never, never>;
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
  completed: boolean;
  date: ColumnType<never, string, string>;
  create_time: Generated<Date>;
  update_time: Generated<Date>;
  version: Generated<number>;
  /** Set when the client sent an idempotency key; unique per owner. */
  idempotency_key: string | null;
  /** What the creating request asked for, to tell a retry from a reused key. */
  request_fingerprint: string | null;
}
