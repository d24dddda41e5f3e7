import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Kysely, PostgresDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { migrations } from "../../server/storage/migrations.js";
import { postgresCase, postgresSkipReason } from "../support/database.js";
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

function required<T>(value: T | undefined): T {
  assert.ok(value !== undefined, "expected a value");
  return value;
}
