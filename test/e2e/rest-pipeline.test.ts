import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { Span_SpanKind } from "../../gen/opentelemetry/proto/trace/v1/trace_pb.js";
import { scrape, total } from "../support/metrics.js";
import { startOtlpReceiver } from "../support/otlp-receiver.js";
import { RestClient } from "../support/rest.js";
import { startTestServer } from "../support/server.js";
import { authEnv, mintToken } from "../support/tokens.js";

// A REST call runs the one call pipeline, as a call of any other protocol:
// tokens and scopes from the access table, rate limits, metrics with the
// protocol label "rest", the call log, traces, CORS.

interface Status {
  readonly code: number;
  readonly message: string;
  readonly details?: ReadonlyArray<Record<string, unknown>>;
}

describe("REST with authentication and rate limits", async () => {
  const server = await startTestServer({ ...authEnv, RATE_LIMIT_WRITES: "3", RATE_LIMIT_WINDOW_MS: "60000" });
  const client = new RestClient(server.port, "1.1");
  after(() => server.shutdown());
  const bearer = async (scope?: string, sub = "rest-clerk") => ({ authorization: `Bearer ${await mintToken({ scope, sub })}` });
  const martian = "a8034f44-aee4-44cf-b32c-74cf452aaaae";
  const anOrder = "00000000-0000-4000-8000-000000000000";

  /** Every route that changes data, with the scope the access table gives its method. */
  const writes = [
    { method: "POST", path: "/v1/movies", body: { title: "Refused", director: "Nobody" }, scope: "movies:write" },
    { method: "PATCH", path: `/v1/movies/${martian}`, body: { rating: 1 }, scope: "movies:write" },
    { method: "DELETE", path: `/v1/movies/${martian}`, body: undefined, scope: "movies:write" },
    { method: "POST", path: "/v1/orders", body: { name: "Refused" }, scope: "orders:write" },
    { method: "PATCH", path: `/v1/orders/${anOrder}`, body: { completed: true }, scope: "orders:write" },
    { method: "DELETE", path: `/v1/orders/${anOrder}`, body: undefined, scope: "orders:write" },
  ] as const;

  test("every write route needs a token (401, WWW-Authenticate) with its scope (403)", async () => {
    for (const { method, path, body, scope } of writes) {
      const anonymous = await client.request(path, { method, body });
      assert.equal(anonymous.status, 401, `${method} ${path}: ${anonymous.text}`);
      assert.equal(anonymous.json<Status>().code, 16);
      assert.match(String(anonymous.headers["www-authenticate"]), /^Bearer/);
      const other = scope === "movies:write" ? "orders:write" : "movies:write";
      const unscoped = await client.request(path, { method, body, headers: await bearer(other) });
      assert.equal(unscoped.status, 403, `${method} ${path}: ${unscoped.text}`);
      assert.equal(unscoped.json<Status>().code, 7);
    }
  });

  test("reads need no token; a token with the scope makes the change, and the log names who made it", async () => {
    assert.equal((await client.get("/v1/movies")).status, 200);
    const created = await client.request("/v1/orders", {
      method: "POST",
      body: { name: "with a token" },
      headers: { ...(await bearer("orders:write")), "x-request-id": "rest-audit" },
    });
    assert.equal(created.status, 200, created.text);
    const line = server.logs.find((record) => record.requestId === "rest-audit");
    assert.equal(line?.protocol, "rest");
    assert.equal(line?.principal, "rest-clerk");
    assert.equal(line?.scope, "orders:write");
  });

  test("rate limits apply: past RATE_LIMIT_WRITES, 429 with Retry-After and RetryInfo", async () => {
    const headers = await bearer("orders:write", "rest-busy");
    let last: Awaited<ReturnType<RestClient["request"]>> | undefined;
    for (let i = 0; i < 4; i++) last = await client.request("/v1/orders", { method: "POST", body: { name: `busy ${i}` }, headers });
    assert.equal(last?.status, 429, last?.text);
    assert.match(String(last?.headers["retry-after"]), /^\d+$/);
    const status = last?.json<Status>();
    assert.equal(status?.code, 8);
    assert.equal(status?.details?.[0]?.["@type"], "type.googleapis.com/google.rpc.RetryInfo");
  });
});

describe("REST in metrics and the call log", async () => {
  const server = await startTestServer();
  after(() => server.shutdown());

  for (const version of ["1.1", "2"] as const) {
    test(`HTTP/${version}: counted with protocol="rest" and logged, unary and streaming, ok and failed`, async () => {
      const client = new RestClient(server.port, version);
      const before = await scrape(`${server.baseUrl}/metrics`);
      const labels = { protocol: "rest", network_protocol_version: version };
      const requestId = `rest-metrics-${version}`;
      assert.equal((await client.get("/v1/calculator:squareRoot?number=9", { "x-request-id": requestId })).status, 200);
      assert.equal((await client.get("/v1/calculator:squareRoot?number=-9")).status, 400);
      assert.equal((await client.get("/v1/movies")).status, 200);
      assert.equal((await client.get("/v1/movies?nope=1")).status, 400);
      client.close();
      const after = await scrape(`${server.baseUrl}/metrics`);
      const delta = (name: string, extra: Record<string, string>) =>
        total(after, name, { ...labels, ...extra }) - total(before, name, { ...labels, ...extra });
      const squareRoot = { rpc_method: "calculator.v1.CalculatorService/SquareRoot" };
      const listMovies = { rpc_method: "movie.v1.MovieService/ListMovies" };
      assert.equal(delta("rpc_server_started_total", squareRoot), 2);
      assert.equal(delta("rpc_server_handled_total", { ...squareRoot, rpc_status_code: "OK" }), 1);
      assert.equal(delta("rpc_server_handled_total", { ...squareRoot, rpc_status_code: "INVALID_ARGUMENT" }), 1);
      assert.equal(delta("rpc_server_handled_total", { ...listMovies, rpc_status_code: "OK" }), 1);
      // Refused before its call (an unknown parameter): counted as handled, as early refusals are on every path.
      assert.equal(delta("rpc_server_handled_total", { ...listMovies, rpc_status_code: "INVALID_ARGUMENT" }), 1);
      const perRpc = { protocol: "rest", ...listMovies };
      const sent = total(after, "rpc_server_responses_per_rpc_sum", perRpc) - total(before, "rpc_server_responses_per_rpc_sum", perRpc);
      assert.ok(sent >= 7, `each movie of the stream counted (${sent})`);
      assert.equal(after.find((sample) => sample.labels.protocol === "rest")?.labels.rpc_system_name, "grpc");

      const line = server.logs.find((record) => record.requestId === requestId);
      assert.equal(line?.protocol, "rest");
      assert.equal(line?.procedure, "/calculator.v1.CalculatorService/SquareRoot");
      assert.equal(line?.method, "GET");
      assert.equal(line?.http, version === "2" ? "2.0" : "1.1");
      assert.equal(line?.code, "ok");
    });
  }

  test("CORS applies to REST routes as to the rest: preflight allows PATCH and DELETE for allowed origins", async () => {
    const cors = await startTestServer({ ALLOWED_ORIGINS: "https://shop.example" });
    try {
      const preflight = await fetch(`${cors.baseUrl}/v1/movies/x`, {
        method: "OPTIONS",
        headers: {
          origin: "https://shop.example",
          "access-control-request-method": "PATCH",
          "access-control-request-headers": "content-type",
        },
      });
      assert.equal(preflight.status, 204);
      assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /PATCH/);
      assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /DELETE/);
      const read = await fetch(`${cors.baseUrl}/v1/movies?title_contains=mar`, { headers: { origin: "https://shop.example" } });
      assert.equal(read.status, 200);
      assert.equal(read.headers.get("access-control-allow-origin"), "https://shop.example");
      const foreign = await fetch(`${cors.baseUrl}/v1/movies?title_contains=mar`, { headers: { origin: "https://evil.example" } });
      assert.equal(foreign.headers.get("access-control-allow-origin"), null, "no CORS grant for other origins");
      await foreign.arrayBuffer();
    } finally {
      await cors.shutdown();
    }
  });
});

describe("REST in traces", async () => {
  const receiver = await startOtlpReceiver();
  const server = await startTestServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: "50" });
  after(async () => {
    await server.shutdown();
    await receiver.close();
  });

  test("a REST call is one server span in the caller's trace, with its route", async () => {
    const traceId = randomBytes(16).toString("hex");
    const parent = randomBytes(8).toString("hex");
    const client = new RestClient(server.port, "1.1");
    const answer = await client.get("/v1/movies/a8034f44-aee4-44cf-b32c-74cf452aaaae", { traceparent: `00-${traceId}-${parent}-01` });
    assert.equal(answer.status, 200);
    const [span] = await receiver.waitForSpans(
      (candidate) => candidate.traceId === traceId && candidate.span.kind === Span_SpanKind.SERVER,
    );
    assert.ok(span);
    assert.equal(span.name, "movie.v1.MovieService/GetMovie");
    assert.equal(span.parentSpanId, parent);
    assert.equal(span.attributes["http.route"], "/v1/movies/{id}");
    assert.equal(span.attributes["http.request.method"], "GET");
    assert.equal(span.attributes["rpc.status_code"], "OK");
  });
});
