import assert from "node:assert/strict";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { type EngineCase, engineCases, postgresSkipReason } from "../support/database.js";
import { startTestServer } from "../support/server.js";

/**
 * Orders that arrive together are written together: on PostgreSQL by one
 * statement for all of them, on SQLite in one commit of the writer thread.
 * When the database refuses one of them (here a trigger refuses the name
 * "Poison", as a constraint or a full disk could refuse a row), that order
 * alone fails, as INTERNAL with one log line (the server did not foresee
 * it): every other caller still gets its own order, written once.
 */
const refusedName = "Poison";

if (postgresSkipReason !== undefined) test("one refused order among many on PostgreSQL", { skip: postgresSkipReason }, () => {});
for (const engine of await engineCases()) {
  const server = await startTestServer(engine.env);
  after(async () => {
    await server.shutdown();
    await engine.cleanup();
  });
  describe(`one refused order among many on ${engine.name}`, () => {
    test("fails alone: the orders that came with it are written, each once", async () => {
      await refuseOrdersNamed(engine, refusedName);
      const orders = createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl }));
      const calls = 20;
      const refused = 7;
      // One HTTP/2 connection: the calls arrive in the same few reads, so they share statements or a commit.
      const outcomes = await Promise.allSettled(
        Array.from({ length: calls }, (_, i) => orders.createOrder({ name: i === refused ? refusedName : `Tea ${i}` })),
      );
      const ids = new Set<string>();
      for (const [i, outcome] of outcomes.entries()) {
        if (i === refused) {
          assert.equal(outcome.status, "rejected", "the refused order fails");
          const error = outcome.status === "rejected" ? ConnectError.from(outcome.reason) : undefined;
          assert.equal(error?.code, Code.Internal, String(error));
          continue;
        }
        assert.equal(outcome.status, "fulfilled", `call ${i}: ${outcome.status === "rejected" ? String(outcome.reason) : ""}`);
        if (outcome.status !== "fulfilled") continue;
        assert.equal(outcome.value.order?.name, `Tea ${i}`, `call ${i} got its own order`);
        ids.add(outcome.value.order?.id ?? "");
      }
      assert.equal(ids.size, calls - 1, "every other call got an order of its own");

      const listed = (await orders.listOrders({ pageSize: 100 })).orders;
      const names = listed.map((order) => order.name).sort();
      const expected = Array.from({ length: calls }, (_, i) => `Tea ${i}`)
        .filter((_, i) => i !== refused)
        .sort();
      assert.deepEqual(names, expected, "each order written once, the refused one not at all");
      const unexpected = server.logs.filter((record) => record.msg === "unexpected error in handler");
      assert.equal(unexpected.length, 1, "one log line, for the refused order");
      assert.match(JSON.stringify(unexpected[0]), /refused by a test trigger/);
      if (engine.name === "PostgreSQL") {
        assert.ok(
          server.logs.some((record) => record.msg === "a batch of new orders failed: writing them one by one"),
          "the shared statement was tried first",
        );
      }
    });
  });
}

/** A trigger in the server's own database that refuses to insert an order named `name`. */
async function refuseOrdersNamed(engine: EngineCase, name: string): Promise<void> {
  const literal = `'${name.replaceAll("'", "''")}'`;
  if (engine.name === "SQLite") {
    const dataDir = engine.env.DATA_DIR;
    assert.ok(dataDir !== undefined);
    const database = new DatabaseSync(path.join(dataDir, "server.db"));
    try {
      database.exec(
        `create trigger refuse_poison before insert on orders when new.name = ${literal} begin select raise(abort, 'refused by a test trigger'); end`,
      );
    } finally {
      database.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: engine.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(
      `create function refuse_poison() returns trigger language plpgsql as $$
       begin
         if new.name = ${literal} then raise exception 'refused by a test trigger'; end if;
         return new;
       end $$`,
    );
    await client.query("create trigger refuse_poison before insert on orders for each row execute function refuse_poison()");
  } finally {
    await client.end();
  }
}
