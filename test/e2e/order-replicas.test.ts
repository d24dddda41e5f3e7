import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { OrderChangeType, OrderService } from "../../gen/order/v1/order_pb.js";
import { postgresMigrations as schemaHistory } from "../../server/storage/migrations/postgres.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { type ServerProcess, spawnServer } from "../support/process.js";
import { describeUnless } from "../support/skip.js";

describeUnless(postgresSkipReason, "two server processes sharing one PostgreSQL", () => {
  let database: EngineCase | undefined;
  const replicas: ServerProcess[] = [];
  after(async () => {
    for (const replica of replicas) await replica.stop();
    await database?.cleanup();
  });

  test("start together on an empty schema, and an order created through one is watched on the other", async () => {
    database = await postgresCase();
    // Both migrate at once: the migration lock makes one wait for the other.
    const env = { ...database.env, SHUTDOWN_GRACE_MS: "500" };
    replicas.push(spawnServer(env), spawnServer(env));
    const [portA, portB] = await Promise.all(replicas.map((replica) => replica.serving()));
    const migrations = replicas.flatMap((replica) => replica.logs.filter((record) => record.msg === "applied database migration"));
    assert.equal(migrations.length, Object.keys(schemaHistory).length, "each migration ran once, in one of the two");

    const replicaA = createClient(OrderService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${portA}` }));
    const replicaB = createClient(OrderService, createConnectTransport({ baseUrl: `http://127.0.0.1:${portB}`, httpVersion: "1.1" }));

    const watching = new AbortController();
    const onB = replicaB.watchOrders({}, { signal: watching.signal })[Symbol.asyncIterator]();
    const onA = replicaA.watchOrders({}, { signal: watching.signal })[Symbol.asyncIterator]();
    try {
      assert.equal((await onB.next()).value?.started, true);
      assert.equal((await onA.next()).value?.started, true);

      const created = (await replicaA.createOrder({ name: "Made on A" })).order;
      assert.ok(created);
      const seenOnB = (await onB.next()).value;
      assert.equal(seenOnB?.type, OrderChangeType.CREATED);
      assert.deepEqual(seenOnB?.order, created);

      const updated = (await replicaB.updateOrder({ id: created.id, completed: true, etag: created.etag })).order;
      assert.equal((await onA.next()).value?.type, OrderChangeType.CREATED);
      const seenOnA = (await onA.next()).value;
      assert.equal(seenOnA?.type, OrderChangeType.UPDATED);
      assert.deepEqual(seenOnA?.order, updated);

      // Both read the same rows; a stale etag is caught across replicas.
      assert.deepEqual((await replicaA.getOrder({ id: created.id })).order, updated);
      await assert.rejects(replicaA.updateOrder({ id: created.id, name: "Stale", etag: created.etag }), /changed since etag v1/);

      // One idempotency key, sent to both replicas at once: one order.
      const key = `replicas-${Date.now()}`;
      const [fromA, fromB] = await Promise.all([
        replicaA.createOrder({ name: "Once", idempotencyKey: key }),
        replicaB.createOrder({ name: "Once", idempotencyKey: key }),
      ]);
      assert.equal(fromA.order?.id, fromB.order?.id);
      const listed = await replicaB.listOrders({});
      assert.equal(listed.orders.filter((order) => order.name === "Once").length, 1);
    } finally {
      watching.abort();
    }
  });
});
