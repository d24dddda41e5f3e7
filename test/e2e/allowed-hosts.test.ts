import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CreateOrderRequestSchema } from "../../gen/order/v1/order_pb.js";
import { GrpcJsClient, grpcFailure, loadProtos, serviceConstructor } from "../support/grpc-js.js";
import { frameType, headerBlock, headersFrame, RawH2Connection } from "../support/h2-frames.js";
import { envelope, grpcStatus, h2Request } from "../support/raw.js";
import { startTestServer, type TestServer } from "../support/server.js";

// DNS rebinding: a page on attacker.example points its own name at
// 127.0.0.1 and calls the server from the victim's browser. The browser
// still says "Host: attacker.example", which the server must refuse.

const createOrder = "/order.v1.OrderService/CreateOrder";
const orderJson = '{"name":"x"}';
const waitLimit = { timeout: 10_000 };
const protos = loadProtos(["order/v1/order.proto"]);

/** One HTTP/1.1 request with exactly this Host. */
function h1(server: TestServer, host: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port: server.port,
        path,
        method: body === undefined ? "GET" : "POST",
        headers: { host, ...(body !== undefined && { "content-type": "application/json" }) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** One bodiless HTTP/2 GET with exactly this :authority; resolves with the status. */
function h2Get(session: http2.ClientHttp2Session, authority: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "GET", ":path": path, ":authority": authority });
    stream.on("response", (headers) => resolve(Number(headers[":status"])));
    stream.on("error", reject);
    stream.resume();
  });
}

async function orderCount(server: TestServer): Promise<number> {
  const answer = await h1(server, `127.0.0.1:${server.port}`, "/order.v1.OrderService/ListOrders", "{}");
  assert.equal(answer.status, 200, answer.text);
  return ((JSON.parse(answer.text) as { orders?: unknown[] }).orders ?? []).length;
}

describe("the default server (loopback, no authentication)", async () => {
  const server = await startTestServer();
  const session = http2.connect(server.baseUrl);
  after(async () => {
    session.close();
    await server.shutdown();
  });

  test("the rebinding request over HTTP/1.1 gets 421 naming ALLOWED_HOSTS, and creates nothing", waitLimit, async () => {
    const answer = await h1(server, "attacker.example", createOrder, orderJson);
    assert.equal(answer.status, 421, answer.text);
    assert.match(answer.text, /does not answer for the host name "attacker\.example".*ALLOWED_HOSTS/);
    assert.equal(await orderCount(server), 0);
  });

  test("with a port in Host too", waitLimit, async () => {
    const answer = await h1(server, `attacker.example:${server.port}`, createOrder, orderJson);
    assert.equal(answer.status, 421, answer.text);
    assert.equal(await orderCount(server), 0);
  });

  test("over h2c (Connect, the fast path's form) it gets 421 too", waitLimit, async () => {
    const answer = await h2Request(
      session,
      { ":path": createOrder, ":authority": "attacker.example", "content-type": "application/json" },
      Buffer.from(orderJson),
    );
    assert.equal(answer.headers[":status"], 421);
    assert.match(answer.body.toString(), /ALLOWED_HOSTS/);
    assert.equal(await orderCount(server), 0);
  });

  test("raw gRPC over h2c: 421 with a gRPC status", waitLimit, async () => {
    const message = toBinary(CreateOrderRequestSchema, create(CreateOrderRequestSchema, { name: "x" }));
    const answer = await h2Request(
      session,
      { ":path": createOrder, ":authority": "attacker.example", "content-type": "application/grpc", te: "trailers" },
      envelope(message),
    );
    assert.equal(answer.headers[":status"], 421);
    assert.equal(grpcStatus(answer).code, grpc.status.PERMISSION_DENIED);
    assert.match(grpcStatus(answer).message, /ALLOWED_HOSTS/);
    assert.equal(await orderCount(server), 0);
  });

  test("grpc-js with a foreign authority is refused", waitLimit, async () => {
    const client = new GrpcJsClient(
      serviceConstructor(protos, "order.v1.OrderService"),
      `127.0.0.1:${server.port}`,
      grpc.credentials.createInsecure(),
      { "grpc.default_authority": "attacker.example" },
    );
    after(() => client.close());
    const error = await grpcFailure(client.unary("CreateOrder", { name: "x" }));
    assert.equal(error.code, grpc.status.PERMISSION_DENIED, error.message);
    assert.match(error.details, /ALLOWED_HOSTS/);
    assert.equal(await orderCount(server), 0);
  });

  test("the page, the probes and /metrics are refused for a foreign name", waitLimit, async () => {
    for (const path of ["/", "/healthz", "/readyz", "/metrics"]) {
      assert.equal((await h1(server, "attacker.example", path)).status, 421, path);
      assert.equal(await h2Get(session, "attacker.example", path), 421, `${path} over HTTP/2`);
    }
  });

  test("refusals are logged, throttled: a burst costs a line or two, each with the host", waitLimit, async () => {
    const refusals = () => server.logs.filter((record) => record.msg.includes("ALLOWED_HOSTS"));
    const before = refusals().length;
    await Promise.all(Array.from({ length: 50 }, () => h1(server, "burst.attacker.example", "/")));
    // The lines of a burst inside the interval are written once it is over.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const lines = refusals().slice(before);
    assert.ok(lines.length >= 1 && lines.length <= 2, `${lines.length} lines`);
    assert.equal(lines.at(-1)?.host, "burst.attacker.example");
    assert.equal(lines.at(-1)?.level, 40);
    assert.equal(lines.reduce((sum, line) => sum + Number(line.count), 0) >= 50, true);
  });

  test("loopback names and IP addresses are served", waitLimit, async () => {
    for (const host of ["localhost", `localhost:${server.port}`, "app.localhost", "127.0.0.1", `[::1]:${server.port}`]) {
      assert.equal((await h1(server, host, "/healthz")).status, 200, host);
    }
    const answer = await h1(server, "localhost", createOrder, orderJson);
    assert.equal(answer.status, 200, answer.text);
  });
});

describe("ALLOWED_HOSTS", async () => {
  const server = await startTestServer({ ALLOWED_HOSTS: "api.example.test,*.apps.example.test" });
  after(() => server.shutdown());

  test("a listed name and a name under a wildcard are served on both HTTP versions", waitLimit, async () => {
    for (const host of ["api.example.test", "API.example.test.:443", "shop.apps.example.test"]) {
      assert.equal((await h1(server, host, createOrder, orderJson)).status, 200, host);
      const session = http2.connect(server.baseUrl);
      const answer = await h2Request(
        session,
        { ":path": createOrder, ":authority": host, "content-type": "application/json" },
        Buffer.from(orderJson),
      );
      session.close();
      assert.equal(answer.headers[":status"], 200, `${host} over HTTP/2`);
    }
  });

  test("others are still refused", waitLimit, async () => {
    assert.equal((await h1(server, "apps.example.test", "/")).status, 421);
    assert.equal((await h1(server, "attacker.example", "/")).status, 421);
  });
});

describe('ALLOWED_HOSTS="*"', async () => {
  const server = await startTestServer({ ALLOWED_HOSTS: "*" });
  after(() => server.shutdown());

  test("any name is served", waitLimit, async () => {
    assert.equal((await h1(server, "attacker.example", createOrder, orderJson)).status, 200);
  });
});

describe("two Authorization headers", async () => {
  const server = await startTestServer();
  const session = http2.connect(server.baseUrl);
  after(async () => {
    session.close();
    await server.shutdown();
  });
  const message = /more than one "authorization" header/;

  test("HTTP/1.1: 400 with a reason, whatever the values", waitLimit, async () => {
    for (const values of [
      ["Bearer a", "Bearer b"],
      ["Bearer a", "Bearer a"],
    ]) {
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const request = http.request(
          {
            host: "127.0.0.1",
            port: server.port,
            path: createOrder,
            method: "POST",
            headers: [
              "host",
              "127.0.0.1",
              "content-type",
              "application/json",
              "authorization",
              values[0] ?? "",
              "Authorization",
              values[1] ?? "",
            ],
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          },
        );
        request.on("error", reject);
        request.end(orderJson);
      });
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.text, /"code":"invalid_argument"/);
      assert.match(String((JSON.parse(answer.text) as { message: string }).message), message);
    }
    assert.equal(await orderCount(server), 0);
  });

  test("HTTP/2: 400 too, for Connect and gRPC, two fields in one header block", waitLimit, async () => {
    // Node's HTTP/2 client refuses to send two, so the frames are written by hand.
    const connection = await RawH2Connection.open(server.port);
    after(() => connection.destroy());
    for (const [streamId, contentType] of [
      [1, "application/json"],
      [3, "application/grpc"],
    ] as const) {
      const block = headerBlock([
        [":path", createOrder],
        [":authority", "127.0.0.1"],
        ["content-type", contentType],
        ["te", "trailers"],
        ["authorization", "Bearer a"],
        ["authorization", "Bearer b"],
      ]);
      await connection.write(headersFrame(streamId, block, true));
      const answer = await connection.waitFor((f) => f.streamId === streamId && f.type === frameType.headers);
      // ":status: 400" is entry 12 of HPACK's static table: one byte, 0x80 | 12.
      assert.equal(answer?.payload[0], 0x80 | 12, contentType);
    }
    assert.ok(server.logs.some((record) => message.test(record.msg)));
    assert.equal(await orderCount(server), 0);
  });

  test("one header is served as before", waitLimit, async () => {
    const answer = await h2Request(
      session,
      { ":path": "/greeter.v1.GreeterService/SayHello", "content-type": "application/json" },
      Buffer.from('{"name":"Ada"}'),
    );
    assert.equal(answer.headers[":status"], 200);
  });
});
