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
// budget per connection, per client address and in all, and must arrive
// within UPLOAD_TIMEOUT_MS.

const squareRoot = "/calculator.v1.CalculatorService/SquareRoot";
/** Small limits, so that a few calls reach them: a connection holds 256 KiB, an address 384 KiB, the server 512 KiB. */
const limits = {
  READ_MAX_BYTES: String(64 * 1024),
  UPLOAD_BUFFER_BYTES_PER_CONNECTION: String(256 * 1024),
  UPLOAD_BUFFER_BYTES_PER_ADDRESS: String(384 * 1024),
  UPLOAD_BUFFER_BYTES: String(512 * 1024),
  UPLOAD_TIMEOUT_MS: "2000",
};
/** 48 KiB of a gRPC message that says it has 60,000 bytes: less than READ_MAX_BYTES, never finished. */
const unfinished = Buffer.concat([Buffer.from([0, 0, 0, 0xea, 0x60]), Buffer.alloc(48 * 1024, 0x41)]);

interface Status {
  readonly code: number;
  readonly message: string;
  readonly at: number;
}

interface Held {
  readonly status: Promise<Status>;
  /** The status once it has come. */
  settled: Status | undefined;
}

const perConnection =
  "too much unfinished request data on this connection: at most 256 KiB at once (UPLOAD_BUFFER_BYTES_PER_CONNECTION); finish the other uploads first, or send this call on another connection";
const perAddress =
  "too much unfinished request data from this address: at most 384 KiB at once (UPLOAD_BUFFER_BYTES_PER_ADDRESS); finish the other uploads first";
const overall = "the server is holding as much unfinished request data as it may (512 KiB, UPLOAD_BUFFER_BYTES); retry shortly";

/** How many calls are still held, and the messages of those refused with RESOURCE_EXHAUSTED (any other status fails). */
async function outcomes(calls: readonly Held[]): Promise<{ pending: number; refused: string[] }> {
  await new Promise((resolve) => setImmediate(resolve));
  const refused: string[] = [];
  for (const { settled } of calls) {
    if (settled === undefined) continue;
    assert.equal(settled.code, Code.ResourceExhausted, settled.message);
    refused.push(settled.message);
  }
  return { pending: calls.length - refused.length, refused };
}

/** A gRPC call whose body stops short; resolves with its status once the server answers. */
function holdCall(session: http2.ClientHttp2Session, path = squareRoot, authority?: string): Held {
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    // Node's client writes an IPv6 authority without its brackets: the server refuses that.
    ...(authority === undefined ? {} : { ":authority": authority }),
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => {});
  stream.resume();
  stream.write(unfinished);
  const status = new Promise<Status>((resolve) => {
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
  const held: Held = { status, settled: undefined };
  void status.then((outcome) => {
    held.settled = outcome;
  });
  return held;
}

const cut = "the request body did not arrive within 2 s (UPLOAD_TIMEOUT_MS); send it faster, or a smaller one";

/** Six calls that never finish on one connection: the one that crosses its 256 KiB is refused, the other five are cut at the timeout. */
async function oneConnectionOverfilled(session: http2.ClientHttp2Session, path = squareRoot): Promise<void> {
  const outcomes = await Promise.all(Array.from({ length: 6 }, () => holdCall(session, path).status));
  const messages = outcomes.map(({ code, message }) => `${code} ${message}`).sort();
  assert.deepEqual(messages, [...Array(5).fill(`${Code.DeadlineExceeded} ${cut}`), `${Code.ResourceExhausted} ${perConnection}`].sort());
}

describe("request bodies still arriving are bounded", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ...limits, HOST: "127.0.0.1,::1" });
  });
  after(() => server.shutdown());

  test("per connection, per address and in all: the call that would go over gets RESOURCE_EXHAUSTED, other connections are served, and held bodies are cut at UPLOAD_TIMEOUT_MS", async () => {
    // Two connections from 127.0.0.1, one from ::1 (the server listens on both).
    const first = http2.connect(server.baseUrl);
    const second = http2.connect(server.baseUrl);
    const third = http2.connect(`http://[::1]:${server.port}`);
    try {
      const started = performance.now();
      // Each call holds 49,157 bytes (48 KiB and the prefix). HTTP/2
      // interleaves a connection's uploads, so whichever call's chunk crosses
      // a line is refused (its bytes given back) and the others go on: the
      // counts below are what fits, not which calls.
      const firstCalls = Array.from({ length: 6 }, () => holdCall(first));
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Five fit in a connection's 256 KiB.
      assert.deepEqual(await outcomes(firstCalls), { pending: 5, refused: [perConnection] });

      // Another connection is served meanwhile.
      const client = createClient(CalculatorService, createGrpcTransport({ baseUrl: server.baseUrl }));
      assert.equal((await client.squareRoot({ number: 16 })).result, 4);

      // The same address again: two more fit in its 384 KiB.
      const secondCalls = Array.from({ length: 5 }, () => holdCall(second));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(await outcomes(secondCalls), { pending: 2, refused: [perAddress, perAddress, perAddress] });

      // Another address: three more fit in the server's 512 KiB.
      const thirdCalls = Array.from({ length: 5 }, () => holdCall(third, squareRoot, `[::1]:${server.port}`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(await outcomes(thirdCalls), { pending: 3, refused: [overall, overall] });

      // The held calls end with DEADLINE_EXCEEDED once their bodies are 2 s late, and the memory is given back.
      const held = [...firstCalls, ...secondCalls, ...thirdCalls].filter(({ settled }) => settled === undefined);
      assert.equal(held.length, 10);
      for (const { status } of held) {
        const { code, message, at } = await status;
        assert.equal(code, Code.DeadlineExceeded);
        assert.equal(message, cut);
        assert.ok(at - started >= 1_900 && at - started < 7_000, `cut after ${Math.round(at - started)} ms`);
      }
      const refusals = server.logs.filter((record) => record.code === "resource_exhausted" && record.procedure === squareRoot);
      assert.equal(refusals.length, 6, "each refusal has its line in the call log");
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
      await oneConnectionOverfilled(session, "/greeter.v1.GreeterService/LotsOfGreetings");
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
      await oneConnectionOverfilled(session);
      const client = createClient(CalculatorService, createGrpcTransport({ baseUrl: server.baseUrl }));
      assert.equal((await client.squareRoot({ number: 16 })).result, 4);
    } finally {
      session.destroy();
    }
  });
});
