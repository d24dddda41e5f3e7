import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { serversOnEachEngine } from "../support/database.js";
import { scrape } from "../support/metrics.js";
import { protocolCases } from "../support/server.js";

/**
 * What a call costs the database, in statements (round trips), counted by
 * the server's own query metric (db_client_operation_duration_seconds),
 * which sees every statement calls send, transaction statements included.
 */
for (const { engine, server } of await serversOnEachEngine((name) => `statements per call on ${name}`)) {
  const protocols = protocolCases(server.baseUrl);
  after(() => protocols.close());
  const [grpc] = protocols.cases;
  assert.ok(grpc);
  const movies = createClient(MovieService, grpc.transport);
  const orders = createClient(OrderService, grpc.transport);
  const postgres = engine.name === "PostgreSQL";

  /** The statements `call` sent, by operation (SELECT, WITH, BEGIN, ...). */
  async function statementsOf(call: () => Promise<unknown>): Promise<Record<string, number>> {
    const counts = async () => {
      const counted: Record<string, number> = {};
      for (const sample of await scrape(`${server.baseUrl}/metrics`)) {
        if (sample.name !== "db_client_operation_duration_seconds_count") continue;
        const operation = sample.labels.db_operation_name ?? "";
        counted[operation] = (counted[operation] ?? 0) + sample.value;
      }
      return counted;
    };
    const before = await counts();
    await call();
    const sent: Record<string, number> = {};
    for (const [operation, count] of Object.entries(await counts())) {
      const more = count - (before[operation] ?? 0);
      if (more > 0) sent[operation] = more;
    }
    return sent;
  }

  describe(`statements per call on ${engine.name}`, () => {
    test("GetMovie is one SELECT", async () => {
      const sent = await statementsOf(() => movies.getMovie({ id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" }));
      assert.deepEqual(sent, { SELECT: 1 });
    });

    test("GetMovie calls that arrive together share their SELECTs", async () => {
      const ids = ["a8034f44-aee4-44cf-b32c-74cf452aaaae", "267eedb8-0f5d-42d5-8f43-72426b9fb3e6", "no-such-movie"];
      const calls = 30;
      const sent = await statementsOf(() =>
        Promise.allSettled(Array.from({ length: calls }, (_, i) => movies.getMovie({ id: ids[i % ids.length] ?? "" }))),
      );
      // One HTTP/2 connection brings them in a few reads at most; each read's calls share one SELECT.
      assert.deepEqual(Object.keys(sent), ["SELECT"]);
      assert.ok((sent.SELECT ?? 0) < calls / 2, `${sent.SELECT} SELECTs for ${calls} calls`);
    });

    // On SQLite the change notice is in the INSERT's RETURNING (the writer thread's notify()).
    test("CreateOrder is one statement, the change notice included", async () => {
      const sent = await statementsOf(() => orders.createOrder({ name: "Tea" }));
      assert.deepEqual(sent, postgres ? { WITH: 1 } : { INSERT: 1 });
    });

    test("CreateOrder calls that arrive together share their statements, each order written once with its own key", async () => {
      const calls = 30;
      const key = `shared-${Date.now()}`;
      let answers: Array<Awaited<ReturnType<typeof orders.createOrder>>> = [];
      const sent = await statementsOf(async () => {
        answers = await Promise.all(
          Array.from({ length: calls }, (_, i) =>
            // Two calls use the same key: one order for both, whichever statement each one is in.
            orders.createOrder(i < 2 ? { name: "Tea", idempotencyKey: key } : { name: `Tea ${i}` }),
          ),
        );
      });
      const ids = answers.map((answer) => answer.order?.id ?? "");
      assert.equal(ids[0], ids[1], "the two calls with one key got one order");
      assert.equal(new Set(ids).size, calls - 1, "every other call got an order of its own");
      for (const [i, answer] of answers.entries()) {
        if (i >= 2) assert.equal(answer.order?.name, `Tea ${i}`);
      }
      const statements = Object.values(sent).reduce((sum, count) => sum + count, 0);
      if (postgres) {
        // One HTTP/2 connection brings them in a few reads at most; each read's orders share one statement.
        assert.ok(statements < calls / 2, `${JSON.stringify(sent)} for ${calls} calls`);
      } else {
        // SQLite's writer thread commits concurrent writes together, one statement each.
        assert.ok(statements >= calls, `${JSON.stringify(sent)} for ${calls} calls`);
      }
    });

    test("a repeated idempotency key costs one more statement to read the earlier order, and writes nothing", async () => {
      const key = `key-${Date.now()}`;
      const first = await orders.createOrder({ name: "Tea", idempotencyKey: key });
      const sent = await statementsOf(() => orders.createOrder({ name: "Tea", idempotencyKey: key }));
      assert.deepEqual(sent, postgres ? { WITH: 1, SELECT: 1 } : { INSERT: 1, SELECT: 1 });
      const again = await orders.createOrder({ name: "Tea", idempotencyKey: key });
      assert.equal(again.order?.id, first.order?.id);
    });

    test("UpdateOrder and DeleteOrder with an etag are one statement each; a stale etag adds one read", async () => {
      const created = (await orders.createOrder({ name: "Tea" })).order;
      assert.ok(created);
      let etag = created.etag;
      const updated = await statementsOf(async () => {
        etag = (await orders.updateOrder({ id: created.id, completed: true, etag })).order?.etag ?? "";
      });
      const stale = await statementsOf(() => orders.deleteOrder({ id: created.id, etag: created.etag }).catch(() => undefined));
      const deleted = await statementsOf(() => orders.deleteOrder({ id: created.id, etag }));
      assert.deepEqual(updated, postgres ? { WITH: 1 } : { UPDATE: 1 });
      assert.deepEqual(stale, postgres ? { WITH: 1, SELECT: 1 } : { DELETE: 1, SELECT: 1 });
      assert.deepEqual(deleted, postgres ? { WITH: 1 } : { DELETE: 1 });
      assert.equal(
        (await orders.listOrders({})).orders.some((order) => order.id === created.id),
        false,
      );
    });
  });
}
