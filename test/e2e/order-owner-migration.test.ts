import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Kysely, PostgresDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { postgresMigrations as migrations } from "../../server/storage/migrations/postgres.js";
import { sqliteMigrations } from "../../server/storage/migrations/sqlite.js";
import { nodeSqliteDialect } from "../../server/storage/node-sqlite-dialect.js";
import { unicodeLower } from "../../server/storage/sqlite-sql.js";
import { postgresCase, postgresSkipReason, sqliteCase } from "../support/database.js";
import { startTestServer } from "../support/server.js";

// A database from before orders had owners: its orders, and their
// idempotency keys, become the anonymous owner's, so a server without
// authentication serves them exactly as before.

test("orders that existed before owners are the anonymous owner's, keys and all", { skip: postgresSkipReason }, async () => {
  const engine = await postgresCase();
  const pool = new pg.Pool({ connectionString: required(engine.env.DATABASE_URL), max: 2 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const id = randomUUID();
  const date = new Date("2024-01-01T00:00:00Z");
  const server = await (async () => {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    const earlier = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0006"));
    const migrator = new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(earlier) },
      migrationTableSchema: required(rows[0]).schema,
    });
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    // As the earlier server stored a keyed create of {name: "Old"} with this date.
    await sql`insert into orders (id, name, completed, date, idempotency_key, request_fingerprint)
    values (${id}, 'Old', false, ${date.toISOString()}, 'legacy-key', ${JSON.stringify(["Old", false, date.getTime()])})`.execute(db);

    return startTestServer(engine.env);
  })().catch(async (error: unknown) => {
    await db.destroy();
    await engine.cleanup();
    throw error;
  });
  try {
    assert.ok(server.logs.some((record) => record.msg === "applied database migration" && record.migration === "0006_order_owner"));
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    assert.equal((await orders.getOrder({ id })).order?.name, "Old");
    assert.ok((await orders.listOrders({ pageSize: 500 })).orders.some((order) => order.id === id));
    const retried = await orders.createOrder({ name: "Old", date: timestampFromDate(date), idempotencyKey: "legacy-key" });
    assert.equal(retried.order?.id, id, "a retry with the old key still finds the order it created");

    // The key is now unique per owner, not across owners.
    const { rows: owners } = await sql<{ owner: string }>`select owner from orders where id = ${id}`.execute(db);
    assert.deepEqual(owners, [{ owner: "" }]);
    await sql`insert into orders (id, owner, name, completed, date, idempotency_key)
    values (${randomUUID()}, 'bob', 'Bob', false, now(), 'legacy-key')`.execute(db);
    await assert.rejects(
      sql`insert into orders (id, owner, name, completed, date, idempotency_key)
      values (${randomUUID()}, 'bob', 'Bob again', false, now(), 'legacy-key')`.execute(db),
      /duplicate key value violates unique constraint "orders_owner_idempotency_key"/,
    );
  } finally {
    await server.shutdown();
    await db.destroy();
    await engine.cleanup();
  }
});

// SQLite cannot drop 0003's unique constraint in place: 0006 rebuilds the
// table, which must keep every row, column and key.
test("on SQLite, orders from before owners survive the table's rebuild as the anonymous owner's", async () => {
  const engine = await sqliteCase();
  const dataDir = required(engine.env.DATA_DIR);
  const id = randomUUID();
  const date = new Date("2024-01-01T00:00:00.123Z");
  await mkdir(dataDir, { recursive: true });
  const database = new DatabaseSync(path.join(dataDir, "server.db"));
  database.function("unicode_lower", { deterministic: true }, (text) => (typeof text === "string" ? unicodeLower(text) : text));
  const db = new Kysely<unknown>({ dialect: nodeSqliteDialect(database, { onCommit() {}, onRollback() {} }) });
  try {
    const earlier = Object.fromEntries(Object.entries(sqliteMigrations).filter(([name]) => name < "0006"));
    const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(earlier) } });
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const micros = BigInt(date.getTime()) * 1000n;
    await sql`insert into orders (id, name, completed, date, version, idempotency_key, request_fingerprint)
    values (${id}, 'Old', 1, ${micros}, 3, 'legacy-key', ${JSON.stringify(["Old", false, date.getTime()])})`.execute(db);
  } finally {
    await db.destroy();
  }
  const server = await startTestServer(engine.env);
  try {
    assert.ok(server.logs.some((record) => record.msg === "applied database migration" && record.migration === "0006_order_owner"));
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const kept = (await orders.getOrder({ id })).order;
    assert.equal(kept?.name, "Old");
    assert.equal(kept?.completed, true);
    assert.equal(kept?.etag, "v3");
    assert.equal(kept?.date?.seconds, BigInt(Math.floor(date.getTime() / 1000)));
    assert.equal(kept?.date?.nanos, 123_000_000);
    const retried = await orders.createOrder({ name: "Old", date: timestampFromDate(date), idempotencyKey: "legacy-key" });
    assert.equal(retried.order?.id, id, "a retry with the old key still finds the order it created");
    // A second order, then the listing: the rebuilt table's indexes serve it.
    await orders.createOrder({ name: "New", idempotencyKey: "another-key" });
    assert.deepEqual(
      (await orders.listOrders({ pageSize: 10 })).orders.map((order) => order.name),
      ["Old", "New"],
    );
  } finally {
    await server.shutdown();
  }
  // The key is unique per owner, not across owners.
  const reopened = new DatabaseSync(path.join(dataDir, "server.db"));
  try {
    const insert = reopened.prepare(
      "insert into orders (id, owner, name, completed, date, idempotency_key) values (?, 'bob', 'Bob', 0, 0, 'legacy-key')",
    );
    insert.run(randomUUID());
    assert.throws(() => insert.run(randomUUID()), /UNIQUE constraint failed: orders.owner, orders.idempotency_key/);
  } finally {
    reopened.close();
    await engine.cleanup();
  }
});

function required<T>(value: T | undefined): T {
  assert.ok(value !== undefined, "expected a value");
  return value;
}
