import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import seed from "../seed/movies.json" with { type: "json" };

/**
 * The schema's history on PostgreSQL, applied in name order at start, each
 * once, inside a transaction and under a lock, so replicas starting
 * together agree. Never edit a migration that has shipped: add a new one,
 * here and in sqlite.ts under the same name, so both engines have the same
 * tables, columns and indexes.
 */
export const postgresMigrations: Record<string, Migration> = {
  "0001_movies": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("movies")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("title", "text", (column) => column.notNull())
        .addColumn("director", "text", (column) => column.notNull())
        .addColumn("rating", "double precision", (column) => column.notNull().check(sql`rating >= 0 and rating <= 10`))
        .execute();
      // The listing order (title ignoring case, then id), in the C collation
      // so it is the same on every server whatever its locale.
      await sql`create index movies_listing on movies ((lower(title) collate "C"), (id collate "C"))`.execute(db);
    },
  },
  // Seeding is a migration so it happens exactly once per database: deleting
  // every movie later does not bring the tutorial's catalogue back.
  "0002_seed_movies": {
    async up(db: Kysely<unknown>) {
      await db
        .insertInto("movies" as never)
        .values(seed.movies.map(({ id, title, director, rating }) => ({ id, title, director, rating })) as never)
        .execute();
    },
  },
  "0003_orders": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("orders")
        .addColumn("id", "uuid", (column) => column.primaryKey())
        .addColumn("name", "text", (column) => column.notNull())
        .addColumn("completed", "boolean", (column) => column.notNull())
        .addColumn("date", sql`timestamptz(3)`, (column) => column.notNull())
        .addColumn("create_time", sql`timestamptz(3)`, (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("update_time", sql`timestamptz(3)`, (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("version", "integer", (column) => column.notNull().defaultTo(1))
        .addColumn("idempotency_key", "text", (column) => column.unique())
        .addColumn("request_fingerprint", "text")
        .execute();
      await db.schema.createIndex("orders_listing").on("orders").columns(["create_time", "id"]).execute();
      await db.schema.createIndex("orders_listing_by_completed").on("orders").columns(["completed", "create_time", "id"]).execute();
    },
  },
  // Order dates come from clients, to the microsecond (the tutorial's Python
  // client sends them so): keep them as PostgreSQL can, no longer rounded to
  // milliseconds. Widening the precision rewrites no row.
  "0004_order_date_microseconds": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable("orders")
        .alterColumn("date", (column) => column.setDataType(sql`timestamptz(6)`))
        .execute();
    },
  },
  // The movies table's version, for the catalogue kept in memory
  // (catalogue-cache.ts): a statement trigger counts it up inside every
  // transaction that changes the table, so the count is committed, or rolled
  // back, with the change itself, whichever process or replica made it.
  "0005_movie_catalogue_version": {
    async up(db: Kysely<unknown>) {
      await sql`create table movie_catalogue (
        single boolean primary key default true check (single),
        version bigint not null default 0
      )`.execute(db);
      await sql`insert into movie_catalogue default values`.execute(db);
      await sql`create function movie_catalogue_changed() returns trigger language plpgsql as $$
        begin
          update movie_catalogue set version = version + 1;
          return null;
        end
      $$`.execute(db);
      await sql`create trigger movies_changed after insert or update or delete or truncate on movies
        for each statement execute function movie_catalogue_changed()`.execute(db);
    },
  },
  // Orders belong to the token subject that created them; rows from before
  // belong to the anonymous owner, "" (see anonymousOwner in
  // domain/orders.ts), as do all orders made without a token. Idempotency
  // keys become unique per owner, so one owner's key neither clashes with
  // nor reveals another's order. Each owner's listing gets its own indexes.
  "0006_order_owner": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable("orders")
        .addColumn("owner", "text", (column) => column.notNull().defaultTo(""))
        .execute();
      // The name PostgreSQL gave the column's unique constraint in 0003_orders.
      await db.schema.alterTable("orders").dropConstraint("orders_idempotency_key_key").execute();
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
