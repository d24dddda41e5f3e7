import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { type ServerProcess, spawnServer } from "../support/process.js";
import { protocolCases, startTestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { authEnv, mintToken } from "../support/tokens.js";

const martian = "a8034f44-aee4-44cf-b32c-74cf452aaaae";
const bearer = async (sub: string, scope = "orders:write") => ({ headers: { authorization: `Bearer ${await mintToken({ sub, scope })}` } });

/** The RetryInfo detail of a RESOURCE_EXHAUSTED error, in milliseconds. */
function retryDelayMs(error: ConnectError): number {
  assert.equal(error.code, Code.ResourceExhausted, error.message);
  const [info] = error.findDetails(RetryInfoSchema);
  assert.ok(info?.retryDelay, "a google.rpc.RetryInfo detail with a retry delay");
  return durationMs(info.retryDelay);
}

describe("rate limits (embedded database: counted in this process)", async () => {
  const server = await startTestServer({ ...authEnv, RATE_LIMIT_WRITES: "3", RATE_LIMIT_READS: "5", RATE_LIMIT_WINDOW_MS: "60000" });
  const protocols = protocolCases(server.baseUrl);
  after(async () => {
    protocols.close();
    await server.shutdown();
  });
  const [grpc, grpcWeb, connectJson, connectBinary] = protocols.cases;
  assert.ok(grpc && grpcWeb && connectJson && connectBinary);

  test("a burst of changes: the calls past the budget get RESOURCE_EXHAUSTED with RetryInfo, on every protocol", async () => {
    const alice = await bearer("alice");
    for (let call = 0; call < 3; call++) {
      await createClient(OrderService, connectJson.transport).createOrder({ name: `Order ${call}` }, alice);
    }
    for (const { name, transport } of [grpc, grpcWeb, connectJson, connectBinary]) {
      const error = await rejection(createClient(OrderService, transport).createOrder({ name: "One too many" }, alice));
      const delay = retryDelayMs(error);
      assert.ok(delay > 0 && delay <= 60_000, `${name}: retry within the window, got ${delay} ms`);
      assert.match(error.rawMessage, /^too many calls that change data: at most 3 per 60 s; retry in \d+ s$/, name);
    }
    const refused = server.callLogs("/order.v1.OrderService/CreateOrder").filter((record) => record.code === "resource_exhausted");
    assert.equal(refused.length, 4);
    assert.ok(
      refused.every((record) => record.principal === "alice"),
      "the log says whose budget ran out",
    );
  });

  test("over plain HTTP: 429, Retry-After and the RetryInfo detail in the JSON body", async () => {
    const response = await fetch(`${server.baseUrl}/order.v1.OrderService/CreateOrder`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: (await bearer("alice")).headers.authorization },
      body: JSON.stringify({ name: "curl" }),
    });
    assert.equal(response.status, 429);
    const retryAfter = Number(response.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    const body = (await response.json()) as { code: string; details: Array<{ type: string; debug: { retryDelay: string } }> };
    assert.equal(body.code, "resource_exhausted");
    assert.equal(body.details[0]?.type, "google.rpc.RetryInfo");
    assert.match(body.details[0]?.debug.retryDelay ?? "", /^\d+(\.\d+)?s$/);
  });

  test("reads have a budget of their own, and every principal has its own budgets", async () => {
    const alice = await bearer("alice");
    const movies = createClient(MovieService, connectJson.transport);
    assert.equal((await movies.getMovie({ id: martian }, alice)).movie?.title, "The Martian", "alice's writes are spent, not her reads");
    const bob = await bearer("bob");
    for (let call = 0; call < 3; call++) {
      await createClient(OrderService, grpc.transport).createOrder({ name: `Bob's ${call}` }, bob);
    }
    assert.equal(
      (await rejection(createClient(OrderService, grpc.transport).createOrder({ name: "Bob's 4" }, bob))).code,
      Code.ResourceExhausted,
    );
  });

  test("anonymous callers share their address's budget; health checks are never limited", async () => {
    const movies = createClient(MovieService, connectBinary.transport);
    for (let call = 0; call < 5; call++) await movies.getMovie({ id: martian });
    const error = await rejection(movies.getMovie({ id: martian }));
    assert.match(error.rawMessage, /^too many calls: at most 5 per 60 s; retry in \d+ s$/);
    retryDelayMs(error);
    const health = createClient(Health, grpc.transport);
    for (let call = 0; call < 10; call++) {
      assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
    }
    const alice = await bearer("alice");
    assert.equal((await movies.getMovie({ id: martian }, alice)).movie?.id, martian, "a principal on the same address has its own budget");
  });
});

describeUnless(postgresSkipReason, "rate limits shared by two replicas on one PostgreSQL", () => {
  let database: EngineCase | undefined;
  const replicas: ServerProcess[] = [];
  after(async () => {
    for (const replica of replicas) await replica.stop();
    await database?.cleanup();
  });

  test("a caller's budget is one budget whichever replica answers, and RetryInfo says when it is back", async () => {
    database = await postgresCase();
    const env = { ...database.env, ...authEnv, RATE_LIMIT_WRITES: "4", RATE_LIMIT_WINDOW_MS: "3000" };
    // Started together: both create the counters' table at once.
    replicas.push(spawnServer(env), spawnServer(env));
    const ports = await Promise.all(replicas.map((replica) => replica.serving()));
    const [a, b] = [
      createClient(OrderService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${ports[0]}` })),
      createClient(OrderService, createConnectTransport({ baseUrl: `http://127.0.0.1:${ports[1]}`, httpVersion: "1.1" })),
    ];
    const carol = await bearer("carol");
    // Reads are counted by each replica, never in the database.
    for (const replica of [a, b]) await replica.listOrders({}, carol);
    // Alternating replicas, four calls spend the budget of four.
    for (const replica of [a, b, a, b]) await replica.createOrder({ name: "Shared budget" }, carol);
    const onA = await rejection(a.createOrder({ name: "Fifth" }, carol));
    const onB = await rejection(b.createOrder({ name: "Fifth" }, carol));
    const delay = Math.max(retryDelayMs(onA), retryDelayMs(onB));
    assert.ok(delay <= 3_000, `${delay} ms`);

    const client = new pg.Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ key: string; points: number }>("select key, points from rate_limits");
      // One row in the server's schema: four calls allowed, and each replica's refused one.
      assert.deepEqual(rows, [{ key: "writes:sub:carol", points: 6 }]);
    } finally {
      await client.end();
    }

    await new Promise((resolve) => setTimeout(resolve, delay + 100));
    assert.ok((await b.createOrder({ name: "After the window" }, carol)).order?.id, "the budget is back when RetryInfo said");
  });

  test("while PostgreSQL is away, changes are counted in memory: UNAVAILABLE at once, then RESOURCE_EXHAUSTED past the budget", async () => {
    assert.ok(database);
    const target = new URL(database.env.DATABASE_URL ?? "");
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const url = new URL(database.env.DATABASE_URL ?? "");
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    const server = await startTestServer({ DATABASE_URL: url.toString(), RATE_LIMIT_WRITES: "2", RATE_LIMIT_WINDOW_MS: "60000" });
    try {
      await proxy.cut();
      for (let waited = 0; server.dependencies.databaseHealth.reachable; waited += 50) {
        assert.ok(waited < 20_000, "the server notices the database is gone");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
      for (let call = 0; call < 2; call++) {
        const started = performance.now();
        assert.equal((await rejection(orders.createOrder({ name: "While away" }))).code, Code.Unavailable);
        assert.ok(performance.now() - started < 2_000, "no wait for the unreachable counter");
      }
      retryDelayMs(await rejection(orders.createOrder({ name: "One too many" })));
      const greeter = createClient(GreeterService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
      assert.equal((await greeter.sayHello({ name: "Ada" })).message, "Hello, Ada!", "reads never wait on the database");
    } finally {
      await server.shutdown();
      await proxy.close();
    }
  });
});
