import assert from "node:assert/strict";
import * as http from "node:http";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { Movie } from "../../gen/tutorial/movie/movie_pb.js";
import { rejection } from "../support/assert.js";
import { startTestServer } from "../support/server.js";
import { authEnv, mintToken } from "../support/tokens.js";

const martian = "a8034f44-aee4-44cf-b32c-74cf452aaaae";

/** One HTTP/1.1 request with exactly these headers (fetch would add or refuse some, like Origin). */
function request(url: string, options: { method: string; headers: http.OutgoingHttpHeaders; body?: string }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: options.method, headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The services a reflection stream lists, over gRPC. */
async function listServices(baseUrl: string, sessionManager: Http2SessionManager, authorization?: string): Promise<string[]> {
  const reflection = createClient(ReflectionV1, createGrpcTransport({ baseUrl, sessionManager }));
  const answers = reflection.serverReflectionInfo(
    (async function* () {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
    })(),
    authorization === undefined ? {} : { headers: { authorization } },
  );
  for await (const answer of answers) {
    if (answer.messageResponse.case === "listServicesResponse") return answer.messageResponse.value.service.map(({ name }) => name);
  }
  return [];
}

describe("AUTH_REQUIRE_FOR_READS=true", async () => {
  const server = await startTestServer({ ...authEnv, AUTH_REQUIRE_FOR_READS: "true", ALLOWED_ORIGINS: "https://app.test" });
  const sessionManager = new Http2SessionManager(server.baseUrl);
  after(async () => {
    sessionManager.abort();
    await server.shutdown();
  });
  const grpc = createGrpcTransport({ baseUrl: server.baseUrl, sessionManager });
  const connect = createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1", useHttpGet: true });

  test("reads without a token: UNAUTHENTICATED; with any valid token, even without scopes, they answer", async () => {
    for (const transport of [grpc, connect]) {
      const movies = createClient(MovieService, transport);
      const error = await rejection(movies.getMovie({ id: martian }));
      assert.equal(error.code, Code.Unauthenticated);
      assert.equal(error.rawMessage, 'GetMovie needs a bearer token: send the header "authorization: Bearer <token>"');
      assert.equal((await rejection(createClient(Movie, transport).getMovieByID({ id: martian }))).code, Code.Unauthenticated);
    }
    const reader = { headers: { authorization: `Bearer ${await mintToken({ sub: "reader" })}` } };
    assert.equal((await createClient(MovieService, grpc).getMovie({ id: martian }, reader)).movie?.title, "The Martian");
    assert.equal((await createClient(Movie, connect).getMovieByID({ id: martian }, reader)).title, "The Martian");
    const logged = server.callLogs("/movie.v1.MovieService/GetMovie").at(-1);
    assert.equal(logged?.principal, "reader");
    assert.equal(logged?.scope, undefined, "a read needs no scope");
  });

  test("health checks still answer without a token: load balancers carry none", async () => {
    assert.equal((await createClient(Health, grpc).check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
  });

  test("reflection is a read like any other", async () => {
    assert.equal((await rejection(listServices(server.baseUrl, sessionManager))).code, Code.Unauthenticated);
    const services = await listServices(server.baseUrl, sessionManager, `Bearer ${await mintToken()}`);
    assert.ok(services.includes("movie.v1.MovieService"));
  });

  test("an answer only token holders may read is never kept by shared caches", async () => {
    const response = await request(
      `${server.baseUrl}/calculator.v1.CalculatorService/SquareRoot?encoding=json&message=${encodeURIComponent('{"number":2}')}`,
      { method: "GET", headers: { authorization: `Bearer ${await mintToken()}` } },
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers["cache-control"], "private, max-age=31536000, immutable");
    assert.equal(
      (
        await createClient(CalculatorService, connect).squareRoot(
          { number: 4 },
          { headers: { authorization: `Bearer ${await mintToken()}` } },
        )
      ).result,
      2,
    );
  });

  test("a page on an allowed origin may send Authorization and read WWW-Authenticate and Retry-After", async () => {
    const preflight = await request(`${server.baseUrl}/order.v1.OrderService/CreateOrder`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.test",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,connect-protocol-version",
      },
    });
    assert.equal(preflight.status, 204);
    const allowed = (preflight.headers["access-control-allow-headers"] ?? "").toLowerCase().split(",");
    assert.ok(allowed.includes("authorization"), allowed.join(","));
    const refused = await request(`${server.baseUrl}/order.v1.OrderService/CreateOrder`, {
      method: "POST",
      headers: { origin: "https://app.test", "content-type": "application/json" },
      body: '{"name": "From the page"}',
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers["access-control-allow-origin"], "https://app.test");
    const exposed = (refused.headers["access-control-expose-headers"] ?? "").toLowerCase().split(",");
    assert.ok(exposed.includes("www-authenticate") && exposed.includes("retry-after"), exposed.join(","));
  });
});

describe("REFLECTION=off", async () => {
  const server = await startTestServer({ REFLECTION: "off" });
  const sessionManager = new Http2SessionManager(server.baseUrl);
  after(async () => {
    sessionManager.abort();
    await server.shutdown();
  });

  test("neither reflection version answers; everything else does", async () => {
    assert.equal((await rejection(listServices(server.baseUrl, sessionManager))).code, Code.Unimplemented);
    const alpha = createClient(ReflectionV1Alpha, createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }));
    const listing = alpha.serverReflectionInfo(
      (async function* () {
        yield { messageRequest: { case: "listServices" as const, value: "" } };
      })(),
    );
    assert.equal((await rejection(listing[Symbol.asyncIterator]().next())).code, Code.Unimplemented);
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }));
    assert.equal((await health.check({ service: "movie.v1.MovieService" })).status, HealthCheckResponse_ServingStatus.SERVING);
    assert.equal((await rejection(health.check({ service: "grpc.reflection.v1.ServerReflection" }))).code, Code.NotFound);
  });
});
