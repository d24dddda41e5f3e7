import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, type ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { GrpcJsClient, loadProtos, type Message, serviceConstructor } from "../support/grpc-js.js";
import { scrape, total } from "../support/metrics.js";
import { openWatch } from "../support/order-watch.js";
import { envelope } from "../support/raw.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { authEnv, mintToken } from "../support/tokens.js";

const perCaller = 5;
const perConnection = 8;
const maxMessages = 5;

/** One HTTP/2 connection (a gRPC transport has one session) speaking for the callers its requests name. */
function connection(server: TestServer): Transport {
  return createGrpcTransport({ baseUrl: server.baseUrl });
}

/** Headers that make a request one caller's: an address forwarded by the trusted proxy (anonymous), or a token. */
const from = (address: string) => ({ "x-forwarded-for": address });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface OpenStream {
  close(): void;
}

/** Opens a stream and waits for its first message, so the server holds it open; rejects with the refusal if there is one. */
async function opened<T>(start: (signal: AbortSignal) => AsyncIterable<T>): Promise<OpenStream> {
  const abort = new AbortController();
  const messages = start(abort.signal)[Symbol.asyncIterator]();
  try {
    await messages.next();
  } catch (error) {
    abort.abort();
    throw error;
  }
  return { close: () => abort.abort() };
}

function healthWatch(transport: Transport, headers: Record<string, string>) {
  const health = createClient(Health, transport);
  return (signal: AbortSignal) => health.watch({ service: "" }, { signal, headers });
}

function orderWatch(transport: Transport, headers: Record<string, string>) {
  const orders = createClient(OrderService, transport);
  return (signal: AbortSignal) => orders.watchOrders({}, { signal, headers });
}

/** RESOURCE_EXHAUSTED with a RetryInfo detail saying when to retry. */
function assertExhausted(error: ConnectError, message: RegExp): void {
  assert.equal(error.code, Code.ResourceExhausted, error.message);
  assert.match(error.rawMessage, message);
  const [retry] = error.findDetails(RetryInfoSchema);
  assert.ok(retry?.retryDelay !== undefined, "a RetryInfo detail with a retry delay");
  assert.ok(durationMs(retry.retryDelay) > 0);
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await sleep(20)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
  }
}

for (const fastPath of ["on", "off"]) {
  describe(`stream budgets (fast path ${fastPath})`, async () => {
    const server = await startTestServer({
      ...authEnv,
      FAST_PATH: fastPath,
      TRUST_PROXY: "127.0.0.1",
      MAX_STREAMS_PER_CALLER: String(perCaller),
      MAX_STREAMS_PER_CONNECTION: String(perConnection),
      MAX_STREAM_MESSAGES: String(maxMessages),
    });
    after(() => server.shutdown());
    const streamsClosed = () => waitUntil(() => server.openStreams() === 0, "every stream's slot is given back");

    test("one caller past MAX_STREAMS_PER_CALLER Health.Watch streams is refused, another caller is not, and closing one frees a slot", async () => {
      const transport = connection(server);
      const mine = await Promise.all(Array.from({ length: perCaller }, () => opened(healthWatch(transport, from("10.0.0.1")))));
      try {
        const refused = await rejection(opened(healthWatch(transport, from("10.0.0.1"))));
        assertExhausted(refused, /at most 5 streaming calls at once per caller/);
        const theirs = await opened(healthWatch(connection(server), from("10.0.0.2")));
        theirs.close();
        mine[0]?.close();
        await waitUntil(() => server.openStreams() === perCaller - 1, "the closed stream's slot is given back");
        mine[0] = await opened(healthWatch(transport, from("10.0.0.1")));
      } finally {
        for (const stream of mine) stream.close();
      }
      await streamsClosed();
      // The fast path serves gRPC server streams itself: the budget must hold there too.
      if (fastPath === "on") assert.ok((server.fastPath?.serverStream ?? 0) > 0, "the fast path served the watches");
      const log = server.logs.find((record) => record.procedure === "/grpc.health.v1.Health/Watch" && record.code === "resource_exhausted");
      assert.ok(log, "the refused call has a log line");
    });

    test("one token past MAX_STREAMS_PER_CALLER WatchOrders streams is refused (over any connections), another token is not", async () => {
      const alice = bearer(await mintToken({ sub: "alice" }));
      const bob = bearer(await mintToken({ sub: "bob" }));
      const mine = await Promise.all(Array.from({ length: perCaller }, () => opened(orderWatch(connection(server), alice))));
      try {
        assertExhausted(await rejection(opened(orderWatch(connection(server), alice))), /per caller/);
        // Over HTTP/1.1 and Connect too, the way the page watches.
        const web = createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" });
        assertExhausted(await rejection(opened(orderWatch(web, alice))), /per caller/);
        (await opened(orderWatch(web, bob))).close();
      } finally {
        for (const stream of mine) stream.close();
      }
      await streamsClosed();
    });

    test("one connection past MAX_STREAMS_PER_CONNECTION streams is refused, whoever the callers; a new connection is not", async () => {
      const transport = connection(server);
      const open: OpenStream[] = [];
      try {
        for (const address of ["10.0.1.1", "10.0.1.2", "10.0.1.3"]) {
          for (let i = 0; i < 3 && open.length < perConnection; i++) open.push(await opened(healthWatch(transport, from(address))));
        }
        assert.equal(open.length, perConnection);
        assertExhausted(
          await rejection(opened(healthWatch(transport, from("10.0.1.3")))),
          /at most 8 streaming calls at once per connection/,
        );
        open.push(await opened(healthWatch(connection(server), from("10.0.1.3"))));
      } finally {
        for (const stream of open) stream.close();
      }
      await streamsClosed();
    });

    test("a dropped connection gives back the slots of every stream it carried", async () => {
      const session = http2.connect(server.baseUrl);
      try {
        const body = envelope(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" })));
        for (let i = 0; i < perCaller; i++) {
          const stream = session.request({
            ":method": "POST",
            ":path": "/grpc.health.v1.Health/Watch",
            "content-type": "application/grpc",
            te: "trailers",
          });
          stream.end(body);
          await new Promise((resolve) => stream.once("data", resolve));
        }
        assert.equal(server.openStreams(), perCaller);
      } finally {
        session.destroy();
      }
      await streamsClosed();
    });

    test("a BidiHello stream past MAX_STREAM_MESSAGES messages ends with RESOURCE_EXHAUSTED after the replies to the first ones", async () => {
      const greeter = createClient(GreeterService, connection(server));
      async function* names(count: number) {
        for (let i = 0; i < count; i++) yield { name: `n${i}` };
      }
      const replies: string[] = [];
      const error = await rejection(
        (async () => {
          for await (const reply of greeter.bidiHello(names(maxMessages + 1), { headers: from("10.0.2.1") })) replies.push(reply.message);
        })(),
      );
      assertExhausted(error, /at most 5 per call \(MAX_STREAM_MESSAGES\)/);
      assert.equal(replies.length, maxMessages);
      const all: string[] = [];
      for await (const reply of greeter.bidiHello(names(maxMessages), { headers: from("10.0.2.1") })) all.push(reply.message);
      assert.equal(all.length, maxMessages);
      await streamsClosed();
    });

    test("a LotsOfGreetings stream past MAX_STREAM_MESSAGES messages is refused; one at the cap is answered", async () => {
      const greeter = createClient(GreeterService, connection(server));
      async function* names(count: number) {
        for (let i = 0; i < count; i++) yield { name: `n${i}` };
      }
      assertExhausted(await rejection(greeter.lotsOfGreetings(names(maxMessages + 1))), /MAX_STREAM_MESSAGES/);
      assert.equal((await greeter.lotsOfGreetings(names(maxMessages))).count, maxMessages);
      await streamsClosed();
    });
  });
}

describe("the longest lifetime of a watch", { timeout: 30_000 }, async () => {
  const maxWatchMs = 1_000;
  const server = await startTestServer({ MAX_WATCH_MS: String(maxWatchMs) });
  after(() => server.shutdown());

  async function endOf(messages: AsyncIterable<unknown>): Promise<{ error: ConnectError; ms: number }> {
    const started = Date.now();
    const error = await rejection(
      (async () => {
        for await (const _ of messages);
      })(),
    );
    return { error, ms: Date.now() - started };
  }

  function assertEndedForLifetime({ error, ms }: { error: ConnectError; ms: number }): void {
    assert.equal(error.code, Code.Unavailable, error.message);
    assert.match(error.rawMessage, /longest lifetime .*MAX_WATCH_MS.*open it again/);
    assert.equal(error.findDetails(RetryInfoSchema).length, 1);
    assert.ok(ms >= maxWatchMs * 0.9 - 50 && ms < maxWatchMs * 1.1 + 1_000, `ended after ${ms} ms`);
  }

  for (const [name, transport] of [
    ["gRPC over HTTP/2", createGrpcTransport({ baseUrl: server.baseUrl })],
    ["Connect over HTTP/1.1", createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" })],
  ] as const) {
    test(`Health.Watch ends with UNAVAILABLE and RetryInfo after MAX_WATCH_MS (${name})`, async () => {
      const health = createClient(Health, transport);
      const statuses: HealthCheckResponse_ServingStatus[] = [];
      const messages = (async function* () {
        for await (const { status } of health.watch({ service: "" })) {
          statuses.push(status);
          yield status;
        }
      })();
      assertEndedForLifetime(await endOf(messages));
      assert.deepEqual(statuses, [HealthCheckResponse_ServingStatus.SERVING]);
      await waitUntil(() => server.openStreams() === 0, "the watch's slot is given back");
    });

    test(`WatchOrders ends with UNAVAILABLE and RetryInfo after MAX_WATCH_MS (${name})`, async () => {
      const orders = createClient(OrderService, transport);
      assertEndedForLifetime(await endOf(orders.watchOrders({})));
      await waitUntil(() => server.dependencies.orders.watchCount === 0, "the watch is released");
    });
  }

  test("a grpc-js WatchOrders client sees UNAVAILABLE with a google.rpc.Status detail (the status it retries on)", async () => {
    const Orders = serviceConstructor(loadProtos(["order/v1/order.proto"]), "order.v1.OrderService");
    const client = new GrpcJsClient(Orders, `127.0.0.1:${server.port}`);
    try {
      const call = client.serverStream("WatchOrders", {});
      const messages: Message[] = [];
      call.on("data", (message: Message) => messages.push(message));
      const error = await new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.match(error.details, /longest lifetime/);
      assert.equal(error.metadata.get("grpc-status-details-bin").length, 1);
      assert.equal(messages[0]?.started, true);
    } finally {
      client.close();
    }
  });

  test("rpc_server_open_streams says how many streams are open", async () => {
    const open = await opened(healthWatch(createGrpcTransport({ baseUrl: server.baseUrl }), {}));
    try {
      assert.equal(total(await scrape(`${server.baseUrl}/metrics`), "rpc_server_open_streams"), 1);
    } finally {
      open.close();
    }
    await waitUntil(() => server.openStreams() === 0, "the watch's slot is given back");
    assert.equal(total(await scrape(`${server.baseUrl}/metrics`), "rpc_server_open_streams"), 0);
  });

  test("a watching client reopens its watch each time and keeps seeing the changes made while each stream is open", async () => {
    const orders: Client<typeof OrderService> = createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl }));
    const watch = await openWatch(orders);
    try {
      for (let round = 0; round < 3; round++) {
        const reopened = watch.reopened;
        await waitUntil(() => watch.reopened > reopened, "the watch is reopened", 5_000);
        const before = watch.changes;
        await orders.createOrder({ name: `round ${round}` });
        await watch.changesReach(before + 1, 5_000);
      }
      assert.ok(watch.reopened >= 3);
    } finally {
      watch.close();
    }
    assert.equal((await watch.ended)?.code, Code.Canceled);
  });
});
