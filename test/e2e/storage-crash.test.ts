import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { type Order, OrderService } from "../../gen/order/v1/order_pb.js";
import { engineCases } from "../support/database.js";
import { type StartedServer, startServerProcess } from "../support/process.js";

// Durability: an order the server acknowledged is in the database, even if
// the process dies the next moment without any chance to clean up.

const running: StartedServer[] = [];
after(() => {
  for (const server of running) server.child.kill("SIGKILL");
});

async function start(env: Record<string, string>): Promise<StartedServer> {
  const server = await startServerProcess(env);
  running.push(server);
  return server;
}

for (const engine of await engineCases()) {
  describe(`kill -9 on ${engine.name}`, () => {
    after(() => engine.cleanup());

    test("every acknowledged order, created, updated or deleted, survives a SIGKILL right after", async () => {
      const first = await start(engine.env);
      const client = createClient(OrderService, createGrpcTransport({ baseUrl: first.baseUrl }));
      const kept: Order[] = [];
      for (let index = 0; index < 20; index++) {
        const order = (await client.createOrder({ name: `Acknowledged ${index}`, date: { seconds: 1_800_000_000n, nanos: index * 1000 } }))
          .order;
        assert.ok(order);
        kept.push(order);
      }
      const updated = (await client.updateOrder({ id: kept[0]?.id, completed: true })).order;
      assert.ok(updated);
      kept[0] = updated;
      const deleted = kept.pop();
      await client.deleteOrder({ id: deleted?.id });
      // The last acknowledgement is in: die at once, as on an OOM kill or a power-cycled container.
      first.child.kill("SIGKILL");
      assert.equal((await first.exited).signal, "SIGKILL");

      const second = await start(engine.env);
      const after = createClient(OrderService, createGrpcTransport({ baseUrl: second.baseUrl }));
      const listed = (await after.listOrders({ pageSize: 500 })).orders;
      assert.deepEqual(listed, kept, "exactly the acknowledged orders, as acknowledged");
      assert.equal(await second.stop(), 0);
    });
  });
}
