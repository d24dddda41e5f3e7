import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";

// A unary request is read whole before it is decoded. A client that starts
// calls, sends most of each body and never finishes used to make the server
// hold all of it, for ever: one client with two HTTP/2 connections of 100
// such calls took it from 99 to 889 MiB. Unfinished bodies now share a
// budget per connection and in all, and must arrive within UPLOAD_TIMEOUT_MS.

const squareRoot = "/calculator.v1.CalculatorService/SquareRoot";
/** Small limits, so that a few calls reach them: a connection holds 256 KiB, the server 512 KiB. */
const limits = {
  READ_MAX_BYTES: String(64 * 1024),
  UPLOAD_BUFFER_BYTES_PER_CONNECTION: String(256 * 1024),
  UPLOAD_BUFFER_BYTES: String(512 * 1024),
  UPLOAD_TIMEOUT_MS: "2000",
};
/** 48 KiB of a gRPC message that says it has 60,000 bytes: less than READ_MAX_BYTES, never finished. */
const unfinished = Buffer.concat([Buffer.from([0, 0, 0, 0xea, 0x60]), Buffer.alloc(48 * 1024, 0x41)]);

interface Held {
  readonly status: Promise<{ code: number; message: string; at: number }>;
}

/** A gRPC call whose body stops short; resolves with its status once the server answers. */
function holdCall(session: http2.ClientHttp2Session, path = squareRoot): Held {
  const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => {});
  stream.resume();
  stream.write(unfinished);
  const status = new Promise<{ code: number; message: string; at: number }>((resolve) => {
    const done = (headers: http2.IncomingHttpHeaders) => {
      if (headers["grpc-status"] === undefined) return;
      resolve({
        code: Number(headers["grpc-status"]),
        message: decodeURIComponent(String(headers["grpc-message"])),
        at: performance.now(),
      });
    };
    stream.on("response", done);
    stream.on("trailers", done);
  });
  return { status };
}

async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setTimeout(resolve, ms, "pending"))]);
}

describe("request bodies still arriving are bounded", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(limits);
  });
  after(() => server.shutdown());

  test("per connection and in all: the call that would go over gets RESOURCE_EXHAUSTED, other connections are served, and held bodies are cut at UPLOAD_TIMEOUT_MS", async () => {
    const first = http2.connect(server.baseUrl);
    const second = http2.connect(server.baseUrl);
    const third = http2.connect(server.baseUrl);
    try {
      const started = performance.now();
      // 48 KiB each: five fit in a connection's 256 KiB, one of six does not
      // (whichever crosses the line: HTTP/2 interleaves the six uploads).
      const firstCalls = Array.from({ length: 6 }, () => holdCall(first));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const settled = await Promise.all(firstCalls.map((held) => settledWithin(held.status, 0)));
      const refused = settled.filter((state) => state !== "pending");
      assert.equal(refused.length, 1, JSON.stringify(settled));
      assert.equal(refused[0]?.code, Code.ResourceExhausted);
      assert.equal(
        refused[0]?.message,
        "too much unfinished request data on this connection: at most 256 KiB at once (UPLOAD_BUFFER_BYTES_PER_CONNECTION); finish the other uploads first, or send this call on another connection",
      );
      const heldOnFirst = firstCalls.filter((_, index) => settled[index] === "pending");

      // Another connection is served meanwhile.
      const client = createClient(CalculatorService, createGrpcTransport({ baseUrl: server.baseUrl }));
      assert.equal((await client.squareRoot({ number: 16 })).result, 4);

      // Five more on a second connection fill the server's 512 KiB; a third connection's call is then refused.
      const secondCalls = Array.from({ length: 5 }, () => holdCall(second));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const overall = await holdCall(third).status;
      assert.equal(overall.code, Code.ResourceExhausted);
      assert.match(
        overall.message,
        /^the server is holding as much unfinished request data as it may \(512 KiB, UPLOAD_BUFFER_BYTES\); retry shortly$/,
      );

      // The held calls end with DEADLINE_EXCEEDED once their bodies are 2 s late, and the memory is given back.
      for (const held of [...heldOnFirst, ...secondCalls]) {
        const { code, message, at } = await held.status;
        assert.equal(code, Code.DeadlineExceeded);
        assert.equal(message, "the request body did not arrive within 2 s (UPLOAD_TIMEOUT_MS); send it faster, or a smaller one");
        assert.ok(at - started >= 1_900 && at - started < 6_000, `cut after ${Math.round(at - started)} ms`);
      }
      const refusals = server.logs.filter((record) => record.code === "resource_exhausted" && record.procedure === squareRoot);
      assert.equal(refusals.length, 2, "each refusal has its line in the call log");
      // The first connection serves whole calls again.
      const again = createClient(CalculatorService, createGrpcTransport({ baseUrl: server.baseUrl }));
      assert.equal((await again.squareRoot({ number: 9 })).result, 3);
    } finally {
      for (const session of [first, second, third]) session.destroy();
    }
  });

  test("over HTTP/1.1 and on REST routes alike", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    try {
      /** A request whose body stops short; resolves with the HTTP status and body once answered. */
      const partial = (path: string, contentType: string) => {
        const req = http.request(`${server.baseUrl}${path}`, {
          method: "POST",
          agent,
          headers: { "content-type": contentType, "content-length": String(60_000) },
        });
        req.on("error", () => {});
        req.write(Buffer.alloc(48 * 1024, 0x20));
        return once(req, "response").then(async ([response]: http.IncomingMessage[]) => {
          const chunks: Buffer[] = [];
          for await (const chunk of response as http.IncomingMessage) chunks.push(chunk as Buffer);
          return { status: (response as http.IncomingMessage).statusCode, body: Buffer.concat(chunks).toString() };
        });
      };
      const started = performance.now();
      const connect = await partial(squareRoot, "application/json");
      assert.equal(connect.status, 504);
      assert.equal(JSON.parse(connect.body).code, "deadline_exceeded");
      const rest = await partial("/v1/orders", "application/json");
      assert.equal(rest.status, 504);
      assert.match(JSON.parse(rest.body).message, /^the request body did not arrive within 2 s \(UPLOAD_TIMEOUT_MS\)/);
      assert.ok(performance.now() - started < 8_000);
    } finally {
      agent.destroy();
    }
  });

  test("a client stream's unfinished message counts too, on connect-node's path", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const calls = Array.from({ length: 6 }, () => holdCall(session, "/greeter.v1.GreeterService/LotsOfGreetings"));
      const outcomes = await Promise.all(calls.map((held) => held.status));
      const codes = outcomes.map(({ code }) => code).sort();
      assert.deepEqual(
        codes,
        [
          Code.DeadlineExceeded,
          Code.DeadlineExceeded,
          Code.DeadlineExceeded,
          Code.DeadlineExceeded,
          Code.DeadlineExceeded,
          Code.ResourceExhausted,
        ].sort(),
      );
    } finally {
      session.destroy();
    }
  });
});

describe("with FAST_PATH=off, connect-node reads unary bodies within the same budget", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ...limits, FAST_PATH: "off" });
  });
  after(() => server.shutdown());

  test("the call over the connection's share is refused, the others are cut at UPLOAD_TIMEOUT_MS", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => holdCall(session).status));
      const refused = outcomes.filter(({ code }) => code === Code.ResourceExhausted);
      assert.equal(refused.length, 1, JSON.stringify(outcomes));
      assert.match(refused[0]?.message ?? "", /^too much unfinished request data on this connection: at most 256 KiB at once/);
      for (const { code, message } of outcomes.filter(({ code }) => code !== Code.ResourceExhausted)) {
        assert.equal(code, Code.DeadlineExceeded);
        assert.equal(message, "the request body did not arrive within 2 s (UPLOAD_TIMEOUT_MS); send it faster, or a smaller one");
      }
      const client = createClient(CalculatorService, createGrpcTransport({ baseUrl: server.baseUrl }));
      assert.equal((await client.squareRoot({ number: 16 })).result, 4);
    } finally {
      session.destroy();
    }
  });
});
