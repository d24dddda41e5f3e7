import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { serversOnEachEngine } from "../support/database.js";
import { startTestServer, type TestServer } from "../support/server.js";

const watchBufferLimit = 5;

/** One message in the envelope that streaming protocols use: flags, length, payload. */
function envelope(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    if (condition()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting until ${what}`);
}

for (const { engine, server } of await serversOnEachEngine((name) => `watching orders on ${name}`, {
  WATCH_BUFFER_LIMIT: String(watchBufferLimit),
})) {
  const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
  const watchCount = () => server.dependencies.orders.watchCount;

  describe(`watching orders on ${engine.name}`, () => {
    test("response headers arrive at once over HTTP/1.1, before any change (browsers wait for them)", async () => {
      const request = http.request(`${server.baseUrl}/order.v1.OrderService/WatchOrders`, {
        method: "POST",
        headers: { "content-type": "application/connect+json", "connect-protocol-version": "1" },
      });
      request.end(envelope(Buffer.from("{}")));
      try {
        const [response] = (await once(request, "response", { signal: AbortSignal.timeout(5_000) })) as [http.IncomingMessage];
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers["content-type"], "application/connect+json");
        const [first] = (await once(response, "data")) as [Buffer];
        assert.deepEqual(JSON.parse(first.subarray(5).toString("utf8")), { started: true });
      } finally {
        request.destroy();
      }
    });

    test("a client that goes away releases its watch", async () => {
      await waitUntil(() => watchCount() === 0, "earlier watches are released");
      const controllers = [new AbortController(), new AbortController(), new AbortController()];
      for (const controller of controllers) {
        const stream = orders.watchOrders({}, { signal: controller.signal })[Symbol.asyncIterator]();
        assert.equal((await stream.next()).value?.started, true);
      }
      assert.equal(watchCount(), 3);
      for (const controller of controllers) controller.abort();
      await waitUntil(() => watchCount() === 0, "every cancelled watch is released");
      const logged = await server.waitForCallLog("/order.v1.OrderService/WatchOrders", 3);
      assert.equal(logged.code, "canceled");
    });

    test("a watcher that stops reading gets RESOURCE_EXHAUSTED; the server does not buffer for it without bound", async () => {
      // A tiny HTTP/2 window and a paused stream: the server soon cannot
      // send, and changes pile up in the watcher's buffer until it overflows.
      const session = http2.connect(server.baseUrl, { settings: { initialWindowSize: 1024 } });
      const ids: string[] = [];
      try {
        const stream = session.request({
          ":method": "POST",
          ":path": "/order.v1.OrderService/WatchOrders",
          "content-type": "application/grpc",
          te: "trailers",
        });
        stream.end(envelope(new Uint8Array()));
        const [headers] = (await once(stream, "response")) as [http2.IncomingHttpHeaders];
        assert.equal(headers[":status"], 200);
        stream.pause();
        const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));

        // More than Node's stream buffers hold (64 KiB each way since Node 22),
        // so the server's writes do stall and the watcher's buffer overflows.
        const flood = 600;
        const padding = "x".repeat(180);
        for (let index = 0; index < flood; index++) {
          const order = (await orders.createOrder({ name: `Flood ${index} ${padding}` })).order;
          if (order) ids.push(order.id);
        }
        // Reading again: what was already on its way, then the error.
        let received = Buffer.alloc(0);
        stream.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
        stream.resume();
        const ending = await trailers;
        assert.equal(ending["grpc-status"], String(Code.ResourceExhausted));
        assert.match(decodeURIComponent(String(ending["grpc-message"])), new RegExp(`fell more than ${watchBufferLimit} changes behind`));
        let messages = 0;
        for (let offset = 0; offset < received.length; offset += 5 + received.readUInt32BE(offset + 1)) messages++;
        assert.ok(messages < flood / 2, `the watcher got ${messages} of ${flood} changes: the rest were never buffered for it`);
        await waitUntil(() => watchCount() === 0, "the ended watch is released");
      } finally {
        session.destroy();
        for (const id of ids) await orders.deleteOrder({ id });
      }
    });
  });
}

describe("watching orders during a graceful shutdown", () => {
  let server: TestServer | undefined;
  after(() => server?.shutdown());

  test("open watches end with UNAVAILABLE as draining starts, without holding the shutdown", { timeout: 30_000 }, async () => {
    // A grace period longer than the test's timeout: only ending the watches early lets the shutdown finish in time.
    server = await startTestServer({ SHUTDOWN_GRACE_MS: "60000" });
    const client = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const stream = client.watchOrders({})[Symbol.asyncIterator]();
    assert.equal((await stream.next()).value?.started, true);
    const ended = stream.next().then(
      () => assert.fail("the stream should end with an error"),
      (error: unknown) => ConnectError.from(error),
    );
    await server.shutdown();
    const error = await ended;
    assert.equal(error.code, Code.Unavailable);
    assert.match(error.rawMessage, /server is shutting down; reopen the watch/);
  });
});
