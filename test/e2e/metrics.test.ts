import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService, LotsOfRepliesResponseSchema } from "../../gen/greeter/v1/greeter_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { dashboardQueries, type Sample, scrape, total } from "../support/metrics.js";
import { protocolCases, startTestServer } from "../support/server.js";
import { authEnv, mintToken } from "../support/tokens.js";

const squareRoot = "calculator.v1.CalculatorService/SquareRoot";
const protocolLabel = { grpc: "grpc", "grpc-web": "grpc_web", connect: "connect" } as const;

/**
 * The server's own series, a histogram's buckets, sum and count as one
 * (Node's process metrics come and go with GC kinds and are left out).
 */
function serverSeries(samples: readonly Sample[]): Set<string> {
  return new Set(
    samples
      .filter((sample) => !/^(process|nodejs)_/.test(sample.name))
      .map((sample) => {
        const { le: _bucket, ...labels } = sample.labels;
        return `${sample.name.replace(/_(bucket|sum|count)$/, "")}${JSON.stringify(labels)}`;
      }),
  );
}

describe("metrics at GET /metrics", async () => {
  const server = await startTestServer();
  const metricsUrl = `${server.baseUrl}/metrics`;
  const protocols = protocolCases(server.baseUrl);
  after(async () => {
    protocols.close();
    await server.shutdown();
  });

  test("answers the Prometheus text format, with Node's process metrics", async () => {
    const response = await fetch(metricsUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
      "process_cpu_seconds_total",
      "nodejs_gc_duration_seconds",
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
    }
    assert.equal((await fetch(metricsUrl, { method: "POST" })).status, 405);
  });

  test("counts calls started and handled by method, protocol, HTTP version and status, on every protocol", async () => {
    const before = await scrape(metricsUrl);
    const expected = new Map<string, number>();
    for (const { name, protocol, http, transport } of protocols.cases) {
      const client = createClient(CalculatorService, transport);
      assert.equal((await client.squareRoot({ number: 9 })).result, 3, name);
      const error = await rejection(client.squareRoot({ number: -1 }));
      assert.equal(error.code, Code.InvalidArgument, name);
      for (const code of ["OK", "INVALID_ARGUMENT"]) {
        const key = `${protocolLabel[protocol]} ${http === "2.0" ? "2" : "1.1"} ${code}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
    }
    const samples = await scrape(metricsUrl);
    for (const [key, count] of expected) {
      const [protocol = "", version = "", code = ""] = key.split(" ");
      const labels = { rpc_method: squareRoot, protocol, network_protocol_version: version };
      const delta = (name: string, extra: Record<string, string> = {}) =>
        total(samples, name, { ...labels, ...extra }) - total(before, name, { ...labels, ...extra });
      assert.equal(delta("rpc_server_handled_total", { rpc_status_code: code }), count, `handled ${key}`);
      assert.equal(delta("rpc_server_call_duration_seconds_count", { rpc_status_code: code }), count, `duration ${key}`);
      assert.equal(
        total(samples, "rpc_server_handled_total", { ...labels, rpc_system_name: protocol === "connect" ? "connectrpc" : "grpc" }),
        total(samples, "rpc_server_handled_total", labels),
        "rpc_system_name follows the protocol",
      );
    }
    assert.equal(
      total(samples, "rpc_server_started_total", { rpc_method: squareRoot }) -
        total(before, "rpc_server_started_total", { rpc_method: squareRoot }),
      protocols.cases.length * 2,
    );
    assert.equal(total(samples, "rpc_server_calls_in_flight", { rpc_method: squareRoot }), 0);
    // Sub-millisecond calls land in a bucket of their own.
    assert.ok(samples.some((sample) => sample.name === "rpc_server_call_duration_seconds_bucket" && sample.labels.le === "0.0001"));
    // Each message is measured as binary protobuf, whatever the wire format: a
    // request {number: 9} or {number: -1} and the answer {result: 3} are 9 bytes each.
    const grown = (name: string) => total(samples, name, { rpc_method: squareRoot }) - total(before, name, { rpc_method: squareRoot });
    assert.equal(grown("rpc_server_request_size_bytes_sum"), 18 * protocols.cases.length);
    assert.equal(grown("rpc_server_response_size_bytes_sum"), 9 * protocols.cases.length);
    assert.equal(total(samples, "rpc_server_response_size_bytes_count", { rpc_method: squareRoot, protocol: "grpc" }), 1);
  });

  test("streams: open streams, messages per stream and watchers", async () => {
    const [grpc] = protocols.cases;
    assert.ok(grpc);
    const greeter = createClient(GreeterService, grpc.transport);
    let replies = 0;
    let replySizes = 0;
    for await (const reply of greeter.lotsOfReplies({ name: "Ada" })) {
      replies++;
      replySizes += toBinary(LotsOfRepliesResponseSchema, reply).byteLength;
    }
    const controller = new AbortController();
    const watch = createClient(OrderService, grpc.transport).watchOrders({}, { signal: controller.signal })[Symbol.asyncIterator]();
    await watch.next();
    await createClient(OrderService, grpc.transport).createOrder({ name: "Watched" });
    const during = await scrape(metricsUrl);
    controller.abort();
    await watch.next().catch(() => {});

    const lots = { rpc_method: "greeter.v1.GreeterService/LotsOfReplies" };
    assert.equal(total(during, "rpc_server_responses_per_rpc_sum", lots), replies);
    assert.equal(total(during, "rpc_server_response_size_bytes_sum", lots), replySizes, "each reply measured once, as binary protobuf");
    assert.equal(total(during, "rpc_server_requests_per_rpc_sum", lots), 1);
    assert.equal(total(during, "rpc_server_streams_open", { rpc_method: "order.v1.OrderService/WatchOrders" }), 1);
    assert.equal(total(during, "order_watchers"), 1);
    assert.ok(total(during, "order_watch_buffered_changes") >= 0);
    assert.ok(total(during, "http_server_open_connections", { network_protocol_version: "2" }) >= 1);
    for (let waited = 0; ; waited += 20) {
      const samples = await scrape(metricsUrl);
      if (total(samples, "rpc_server_streams_open") === 0) {
        assert.equal(
          total(samples, "rpc_server_handled_total", { rpc_method: "order.v1.OrderService/WatchOrders", rpc_status_code: "CANCELLED" }),
          1,
        );
        break;
      }
      assert.ok(waited < 5_000, "the watch ends once the client cancels");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  test("database queries are timed and the pool is reported", async () => {
    const [, , connect] = protocols.cases;
    assert.ok(connect);
    await createClient(MovieService, connect.transport)
      .getMovie({ id: "1" })
      .catch(() => {});
    const samples = await scrape(metricsUrl);
    assert.ok(total(samples, "db_client_operation_duration_seconds_count", { db_system_name: "sqlite", db_operation_name: "SELECT" }) >= 1);
    assert.equal(total(samples, "db_client_connection_max", { db_client_connection_pool_name: "sqlite" }), 1);
    assert.equal(total(samples, "db_client_connection_count", { db_client_connection_pool_name: "sqlite" }), 1);
    assert.equal(total(samples, "db_client_connection_pending_requests"), 0);
  });

  test("calls that end before any interceptor runs are counted too", async () => {
    const before = await scrape(metricsUrl);
    const response = await fetch(`${server.baseUrl}/${squareRoot}`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "9",
    });
    assert.equal(response.status, 415);
    await response.arrayBuffer();
    const samples = await scrape(metricsUrl);
    const labels = { rpc_method: squareRoot, protocol: "connect", rpc_status_code: "INVALID_ARGUMENT" };
    assert.equal(total(samples, "rpc_server_handled_total", labels) - total(before, "rpc_server_handled_total", labels), 1);
  });

  test("cardinality: 1,000 random unknown paths add at most a handful of series", async () => {
    const before = serverSeries(await scrape(metricsUrl));
    const contentTypes = ["application/grpc", "application/grpc-web+proto", "application/json", "application/proto", "text/html"];
    const requests = Array.from({ length: 1_000 }, (_, index) => {
      const noise = randomBytes(6).toString("hex");
      const path = [
        `/${noise}`,
        `/pkg${noise}.Service/Method`,
        `/calculator.v1.CalculatorService/${noise}`,
        `/${noise}/${noise}?q=${noise}`,
      ][index % 4];
      return { path, contentType: contentTypes[index % contentTypes.length] ?? "" };
    });
    for (let start = 0; start < requests.length; start += 50) {
      await Promise.all(
        requests.slice(start, start + 50).map(async ({ path, contentType }) => {
          const response = await fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { "content-type": contentType }, body: "" });
          await response.arrayBuffer();
        }),
      );
    }
    const afterSamples = await scrape(metricsUrl);
    const added = [...serverSeries(afterSamples)].filter((series) => !before.has(series));
    // rpc_method="_OTHER" once per protocol (3) in the started, handled and duration metrics.
    assert.ok(added.length <= 9, `at most a handful of new series, got ${added.length}: ${added.join("\n")}`);
    assert.ok(total(afterSamples, "rpc_server_handled_total", { rpc_method: "_OTHER", rpc_status_code: "UNIMPLEMENTED" }) >= 1_000);
    assert.ok(
      afterSamples.every((sample) => !JSON.stringify(sample.labels).includes("pkg")),
      "no raw path is a label value",
    );
  });

  test("every metric the Grafana dashboard queries is one the server exposes", async () => {
    const text = await (await fetch(metricsUrl)).text();
    const families = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((match) => match[1]));
    const queried = dashboardQueries().flatMap((expr) => [...expr.matchAll(/\b([a-z_]+)(?=\{|\[)/g)].map((match) => match[1] ?? ""));
    assert.ok(queried.length > 30);
    const unknown = queried.filter((name) => !families.has(name) && !families.has(name.replace(/_(bucket|sum|count)$/, "")));
    assert.deepEqual([...new Set(unknown)], []);
  });
});

describe("metrics on a port of their own (METRICS_PORT)", async () => {
  const server = await startTestServer({ METRICS_PORT: "0" });
  after(() => server.shutdown());

  test("/metrics is served there, and not on the API's port", async () => {
    assert.ok(server.metricsPort !== undefined && server.metricsPort !== server.port);
    await createClient(CalculatorService, protocolCases(server.baseUrl).cases[2]?.transport ?? assert.fail()).add({ a: 1, b: 2 });
    const samples = await scrape(`http://127.0.0.1:${server.metricsPort}/metrics`);
    assert.equal(total(samples, "rpc_server_handled_total", { rpc_method: "calculator.v1.CalculatorService/Add" }), 1);
    assert.equal((await fetch(`${server.baseUrl}/metrics`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${server.metricsPort}/other`)).status, 404);
  });
});

describe("METRICS=off", async () => {
  const server = await startTestServer({ METRICS: "off" });
  after(() => server.shutdown());

  test("no /metrics, and calls work as before", async () => {
    assert.equal((await fetch(`${server.baseUrl}/metrics`)).status, 404);
    const result = await createClient(CalculatorService, protocolCases(server.baseUrl).cases[2]?.transport ?? assert.fail()).add({
      a: 1,
      b: 2,
    });
    assert.equal(result.result, 3);
  });
});

describe("metrics of the guards: authentication and rate limits", async () => {
  const server = await startTestServer({ ...authEnv, RATE_LIMIT_READS: "2", RATE_LIMIT_WINDOW_MS: "60000" });
  const sessions = new Http2SessionManager(server.baseUrl);
  after(async () => {
    sessions.abort();
    await server.shutdown();
  });

  test("refusals are counted by status and by budget", async () => {
    const transport = createGrpcTransport({ baseUrl: server.baseUrl, sessionManager: sessions });
    assert.equal((await rejection(createClient(OrderService, transport).createOrder({ name: "No token" }))).code, Code.Unauthenticated);
    const calculator = createClient(CalculatorService, transport);
    await calculator.add({ a: 1, b: 1 });
    await calculator.add({ a: 1, b: 1 });
    assert.equal((await rejection(calculator.add({ a: 1, b: 1 }))).code, Code.ResourceExhausted);
    const samples = await scrape(`${server.baseUrl}/metrics`, await mintToken({ scope: "metrics:read" }));
    assert.equal(total(samples, "rpc_server_auth_rejections_total", { rpc_status_code: "UNAUTHENTICATED" }), 1);
    assert.equal(total(samples, "rpc_server_rate_limit_rejections_total", { budget: "reads" }), 1);
    assert.equal(total(samples, "rpc_server_rate_limit_rejections_total", { budget: "writes" }), 0);
  });
});

describe("/metrics is private once tokens are required", async () => {
  const server = await startTestServer(authEnv);
  const metricsUrl = `${server.baseUrl}/metrics`;
  after(() => server.shutdown());

  test("without a token: 401 with a Bearer challenge, on both HTTP versions", async () => {
    const response = await fetch(metricsUrl);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), "Bearer");
    assert.deepEqual(await response.json(), {
      code: "unauthenticated",
      message: '/metrics needs a bearer token with the scope "metrics:read": send "authorization: Bearer <token>"',
    });
    const session = http2.connect(server.baseUrl);
    after(() => session.close());
    const status = await new Promise((resolve, reject) => {
      const stream = session.request({ ":method": "GET", ":path": "/metrics" });
      stream.on("response", (headers) => resolve(headers[":status"]));
      stream.on("error", reject);
      stream.resume();
    });
    assert.equal(status, 401);
  });

  test("a bad token: 401 invalid_token; a token without metrics:read: 403 naming the scope", async () => {
    const forged = await fetch(metricsUrl, { headers: { authorization: `Bearer ${await mintToken({ secret: "x".repeat(40) })}` } });
    assert.equal(forged.status, 401);
    assert.equal(forged.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    const writer = await fetch(metricsUrl, {
      headers: { authorization: `Bearer ${await mintToken({ scope: "orders:write movies:write" })}` },
    });
    assert.equal(writer.status, 403);
    assert.equal(writer.headers.get("www-authenticate"), 'Bearer error="insufficient_scope", scope="metrics:read"');
    assert.match(await writer.text(), /"code":"permission_denied"/);
  });

  test('a token with "metrics:read" scrapes them', async () => {
    const samples = await scrape(metricsUrl, await mintToken({ scope: "metrics:read" }));
    assert.ok(samples.some((sample) => sample.name === "nodejs_heap_size_used_bytes"));
  });
});

describe("METRICS_PORT binds loopback and needs no token", async () => {
  const server = await startTestServer({ ...authEnv, METRICS_PORT: "0" });
  after(() => server.shutdown());

  test("scraped from this machine without a token; foreign host names refused", async () => {
    assert.ok((await scrape(`http://127.0.0.1:${server.metricsPort}/metrics`)).length > 0);
    assert.equal((await fetch(`${server.baseUrl}/metrics`)).status, 404);
    const rebound = await new Promise<number>((resolve, reject) => {
      const request = http.get(
        { host: "127.0.0.1", port: server.metricsPort, path: "/metrics", headers: { host: "attacker.example" } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on("error", reject);
    });
    assert.equal(rebound, 421);
  });
});
