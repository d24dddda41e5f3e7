import type { Generated } from "kysely";

/** The tables, as Kysely sees them. Timestamps are `timestamptz(3)`: milliseconds, like JavaScript dates. */
export interface Tables {
  movies: MovieRow;
  orders: OrderRow;
}

export interface MovieRow {
  id: string;
  title: string;
  director: string;
  rating: number;
}

export interface OrderRow {
  id: string;
  name: string;
  completed: boolean;
  date: Date;
  create_time: Generated<Date>;
  update_time: Generated<Date>;
  version: Generated<number>;
  /** Set when the client sent an idempotency key; unique. */
  idempotency_key: string | null;
  /** What the creating request asked for, to tell a retry from a reused key. */
  request_fingerprint: string | null;
}
