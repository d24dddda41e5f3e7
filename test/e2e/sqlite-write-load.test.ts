import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { after, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { sqliteCase } from "../support/database.js";
import { startTestServer } from "../support/server.js";

// Many CreateOrder calls at once on the embedded database with
// SQLITE_SYNCHRONOUS=full: the fsyncs happen on the writer thread, so the
// server (in this process) keeps serving, and every order a client was told
// about is readable at once by another client. The event loop's delay is
// printed, not asserted: timing on a shared machine is not a test.

const calls = 200;
const inFlight = 32;

const data = await sqliteCase();
const server = await startTestServer({ ...data.env, SQLITE_SYNCHRONOUS: "full" });
after(async () => {
  await server.shutdown();
  await data.cleanup();
});

test(`${calls} CreateOrder calls, ${inFlight} at a time: each acknowledged order is readable at once on another connection`, async () => {
  const writer = createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl }));
  const reader = createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl }));
  // Warm up, so the figures below are about the load rather than the first calls.
  await writer.getOrder({ id: (await writer.createOrder({ name: "warm-up" })).order?.id ?? "" });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const created: string[] = [];
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < calls) {
        const name = `load ${next++}`;
        const order = (await writer.createOrder({ name })).order;
        assert.ok(order !== undefined);
        const read = (await reader.getOrder({ id: order.id })).order;
        assert.equal(read?.name, name, "an acknowledged order is readable at once");
        created.push(order.id);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  assert.equal(new Set(created).size, calls);
  const listed = new Set<string>();
  let pageToken = "";
  do {
    const page = await reader.listOrders({ pageSize: 100, pageToken });
    for (const order of page.orders) listed.add(order.id);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  for (const id of created) assert.ok(listed.has(id), `order ${id} is listed`);
  console.log(
    `# ${calls} CreateOrder + GetOrder, ${inFlight} at a time, synchronous=full: ${(calls / seconds).toFixed(0)} pairs/s, ` +
      `event-loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, ` +
      `max ${(delay.max / 1e6).toFixed(1)} ms; main-thread CPU (client and server) ${((cpu.user + cpu.system) / calls).toFixed(0)} µs per pair`,
  );
});
