import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import seed from "../seed/movies.json" with { type: "json" };

/**
 * The schema's history on SQLite, name for name the same as on PostgreSQL
 * (postgres.ts), with SQLite's types: times are integers, microseconds
 * since the epoch; booleans 0 or 1 (see sqlite-sql.ts). A SQLite database
 * was only ever created with this whole history, so where PostgreSQL's
 * history changes a column, SQLite's first migration may already have it
 * the final way (0004). Never edit a migration that has shipped.
 */

/** The transaction's time, to the millisecond (PostgreSQL's timestamptz(3)). */
const nowMicros = sql`(cast(round(unixepoch('subsec') * 1000) as integer) * 1000)`;

/** SQLite allows 32,766 parameters per statement; a movie takes four. */
const seedBatch = 1_000;

export const sqliteMigrations: Record<string, Migration> = {
  "0001_movies": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("movies")
        .addColumn("id", "text", (column) => column.primaryKey().notNull())
        .addColumn("title", "text", (column) => column.notNull())
        .addColumn("director", "text", (column) => column.notNull())
        .addColumn("rating", "real", (column) => column.notNull().check(sql`rating >= 0 and rating <= 10`))
        .execute();
      // The listing order (sqlite-sql.ts): title with case ignored, then id, in code point order.
      await sql`create index movies_listing on movies (unicode_lower(title), id)`.execute(db);
    },
  },
  "0002_seed_movies": {
    async up(db: Kysely<unknown>) {
      const movies = seed.movies.map(({ id, title, director, rating }) => ({ id, title, director, rating }));
      for (let start = 0; start < movies.length; start += seedBatch) {
        await db
          .insertInto("movies" as never)
          .values(movies.slice(start, start + seedBatch) as never)
          .execute();
      }
    },
  },
  "0003_orders": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("orders")
        .addColumn("id", "text", (column) => column.primaryKey().notNull())
        .addColumn("name", "text", (column) => column.notNull())
        .addColumn("completed", "integer", (column) => column.notNull().check(sql`completed in (0, 1)`))
        // Microseconds since the epoch (PostgreSQL's timestamptz(6) after 0004).
        .addColumn("date", "integer", (column) => column.notNull())
        .addColumn("create_time", "integer", (column) => column.notNull().defaultTo(nowMicros))
        .addColumn("update_time", "integer", (column) => column.notNull().defaultTo(nowMicros))
        .addColumn("version", "integer", (column) => column.notNull().defaultTo(1))
        .addColumn("idempotency_key", "text", (column) => column.unique())
        .addColumn("request_fingerprint", "text")
        .execute();
      await db.schema.createIndex("orders_listing").on("orders").columns(["create_time", "id"]).execute();
      await db.schema.createIndex("orders_listing_by_completed").on("orders").columns(["completed", "create_time", "id"]).execute();
    },
  },
  // Dates were microseconds since 0003 here.
  "0004_order_date_microseconds": {
    async up() {},
  },
  // SQLite's triggers run once per row, not per statement: a statement
  // changing many movies counts up many times, which says the same thing,
  // "changed", in the same transaction.
  "0005_movie_catalogue_version": {
    async up(db: Kysely<unknown>) {
      await sql`create table movie_catalogue (
        single integer primary key default 1 check (single = 1),
        version integer not null default 0
      )`.execute(db);
      await sql`insert into movie_catalogue default values`.execute(db);
      for (const event of ["insert", "update", "delete"]) {
        await sql`create trigger ${sql.raw(`movies_changed_on_${event}`)} after ${sql.raw(event)} on movies
          begin
            update movie_catalogue set version = version + 1;
          end`.execute(db);
      }
    },
  },
  // Orders belong to their creator (see the PostgreSQL twin). SQLite cannot
  // drop the column-level unique constraint of 0003 in place, so the table is
  // rebuilt as its documented ALTER TABLE procedure says (create, copy, drop,
  // rename), inside this migration's transaction.
  "0006_order_owner": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("orders_with_owner")
        .addColumn("id", "text", (column) => column.primaryKey().notNull())
        .addColumn("owner", "text", (column) => column.notNull().defaultTo(""))
        .addColumn("name", "text", (column) => column.notNull())
        .addColumn("completed", "integer", (column) => column.notNull().check(sql`completed in (0, 1)`))
        .addColumn("date", "integer", (column) => column.notNull())
        .addColumn("create_time", "integer", (column) => column.notNull().defaultTo(nowMicros))
        .addColumn("update_time", "integer", (column) => column.notNull().defaultTo(nowMicros))
        .addColumn("version", "integer", (column) => column.notNull().defaultTo(1))
        .addColumn("idempotency_key", "text")
        .addColumn("request_fingerprint", "text")
        .execute();
      await sql`insert into orders_with_owner
          (id, name, completed, date, create_time, update_time, version, idempotency_key, request_fingerprint)
        select id, name, completed, date, create_time, update_time, version, idempotency_key, request_fingerprint
        from orders`.execute(db);
      await db.schema.dropTable("orders").execute();
      await db.schema.alterTable("orders_with_owner").renameTo("orders").execute();
      await db.schema.createIndex("orders_listing").on("orders").columns(["create_time", "id"]).execute();
      await db.schema.createIndex("orders_listing_by_completed").on("orders").columns(["completed", "create_time", "id"]).execute();
      await db.schema.createIndex("orders_owner_idempotency_key").on("orders").columns(["owner", "idempotency_key"]).unique().execute();
      await db.schema.createIndex("orders_listing_by_owner").on("orders").columns(["owner", "create_time", "id"]).execute();
      await db.schema
        .createIndex("orders_listing_by_owner_completed")
        .on("orders")
        .columns(["owner", "completed", "create_time", "id"])
        .execute();
    },
  },
};
