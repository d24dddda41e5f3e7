import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { CalculatorService, SquareRootRequestSchema } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService, LotsOfRepliesRequestSchema } from "../../gen/greeter/v1/greeter_pb.js";
import { protocolCases, startTestServer, type TestServer } from "../support/server.js";

/**
 * The fast path (server/fast-path) must keep serving unary calls: a change
 * that silently sends them back through connect-node's pipeline loses most of
 * the server's speed. And it must answer exactly as connect-node does.
 */

describe("unary calls take the fast path", () => {
  let server: TestServer;
  let protocols: ReturnType<typeof protocolCases>;
  before(async () => {
    server = await startTestServer({ FAST_PATH: "on" });
    protocols = protocolCases(server.baseUrl);
  });
  after(async () => {
    protocols.close();
    await server.shutdown();
  });

  test("over every protocol case, and server streams over gRPC", async () => {
    const stats = server.fastPath;
    assert.ok(stats, "FAST_PATH=on, but the server has no fast path");
    for (const { name, protocol, get, transport } of protocols.cases) {
      const before: typeof stats = { ...stats };
      const calculator = createClient(CalculatorService, transport);
      assert.equal((await calculator.squareRoot({ number: 16 })).result, 4);
      await assert.rejects(calculator.squareRoot({ number: -1 }));
      assert.equal(stats[protocol] - before[protocol], 2, `${name}: unary calls did not take the fast path`);
      assert.equal(stats.get - before.get, get ? 2 : 0, `${name}: Connect GET calls not counted as such`);
      assert.equal(stats.handedBack, before.handedBack, `${name}: well-formed calls were handed to connect-node`);

      // Server streams take it over gRPC only; client streams never do.
      const streamed: typeof stats = { ...stats };
      const greeter = createClient(GreeterService, transport);
      const replies = [];
      for await (const reply of greeter.lotsOfReplies({ name: "fast" })) replies.push(reply);
      assert.ok(replies.length > 0);
      assert.equal((await greeter.lotsOfGreetings(names("Ann", "Bob"))).count, 2);
      const viaFastPath = protocol === "grpc" ? 1 : 0;
      assert.deepEqual(
        { ...stats },
        { ...streamed, grpc: streamed.grpc + viaFastPath, serverStream: streamed.serverStream + viaFastPath },
        `${name}: server streams ${viaFastPath ? "did not take" : "took"} the fast path, or a client stream took it`,
      );
    }
    // Each call still has its log line, whichever path served it.
    assert.ok(server.callLogs("/calculator.v1.CalculatorService/SquareRoot").length >= 2 * protocols.cases.length);
  });

  test("is off with FAST_PATH=off", async () => {
    const off = await startTestServer({ FAST_PATH: "off" });
    try {
      assert.equal(off.fastPath, undefined);
    } finally {
      await off.shutdown();
    }
  });
});

async function* names(...list: string[]) {
  for (const name of list) yield { name };
}

/** One request, as raw as it goes on the wire, and what of its answer must not depend on the path. */
interface RawCase {
  readonly name: string;
  readonly http: 1 | 2;
  readonly method?: "GET" | "POST";
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  trailers: Record<string, string | undefined>;
  body: string;
}

const compared = [
  "content-type",
  "content-encoding",
  "content-length",
  "grpc-encoding",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "etag",
  "cache-control",
  "vary",
  "x-request-id",
  "allow",
];

function envelope(bytes: Uint8Array, flags = 0): Uint8Array {
  const framed = new Uint8Array(5 + bytes.byteLength);
  framed[0] = flags;
  new DataView(framed.buffer).setUint32(1, bytes.byteLength);
  framed.set(bytes, 5);
  return framed;
}

const sqrt = (number: number) => toBinary(SquareRootRequestSchema, create(SquareRootRequestSchema, { number }));
const replies = (name: string) => toBinary(LotsOfRepliesRequestSchema, create(LotsOfRepliesRequestSchema, { name }));
const lotsOfReplies = "/greeter.v1.GreeterService/LotsOfReplies";
const path = "/calculator.v1.CalculatorService/SquareRoot";
const grpc = { "content-type": "application/grpc", te: "trailers", "x-request-id": "same-id" };
const grpcWeb = { "content-type": "application/grpc-web+proto", "x-request-id": "same-id" };
const connectJson = { "content-type": "application/json", "x-request-id": "same-id" };
const connectProto = { "content-type": "application/proto", "x-request-id": "same-id" };
const json = (text: string) => new TextEncoder().encode(text);

const cases: RawCase[] = [
  { name: "gRPC ok", http: 2, path, headers: grpc, body: envelope(sqrt(16)) },
  { name: "gRPC error with details", http: 2, path, headers: grpc, body: envelope(sqrt(-4)) },
  { name: "gRPC not protobuf", http: 2, path, headers: grpc, body: envelope(new Uint8Array([0xff, 0xff, 0xff])) },
  { name: "gRPC two messages", http: 2, path, headers: grpc, body: new Uint8Array([...envelope(sqrt(1)), ...envelope(sqrt(2))]) },
  { name: "gRPC cut envelope", http: 2, path, headers: grpc, body: envelope(sqrt(16)).subarray(0, 7) },
  { name: "gRPC empty body", http: 2, path, headers: grpc, body: new Uint8Array(0) },
  {
    name: "gRPC gzip both ways",
    http: 2,
    path,
    headers: { ...grpc, "grpc-encoding": "gzip", "grpc-accept-encoding": "gzip" },
    body: envelope(gzipSync(sqrt(9)), 1),
  },
  { name: "gRPC compressed flag without encoding", http: 2, path, headers: grpc, body: envelope(gzipSync(sqrt(9)), 1) },
  { name: "gRPC deadline", http: 2, path, headers: { ...grpc, "grpc-timeout": "10S" }, body: envelope(sqrt(16)) },
  { name: "gRPC-Web ok (HTTP/1.1)", http: 1, path, headers: grpcWeb, body: envelope(sqrt(16)) },
  { name: "gRPC-Web error (HTTP/2)", http: 2, path, headers: grpcWeb, body: envelope(sqrt(-1)) },
  { name: "Connect JSON ok (HTTP/1.1)", http: 1, path, headers: connectJson, body: json('{"number": 16}') },
  { name: "Connect JSON error (HTTP/2)", http: 2, path, headers: connectJson, body: json('{"number": -16}') },
  { name: "Connect JSON unknown field", http: 1, path, headers: connectJson, body: json('{"numbr": 16}') },
  { name: "Connect JSON not JSON", http: 2, path, headers: connectJson, body: json("{") },
  { name: "Connect binary ok (HTTP/2)", http: 2, path, headers: connectProto, body: sqrt(16) },
  {
    name: "Connect wrong protocol version",
    http: 1,
    path,
    headers: { ...connectProto, "connect-protocol-version": "2" },
    body: sqrt(16),
  },
  {
    name: "Connect gzip request",
    http: 1,
    path,
    headers: { ...connectProto, "content-encoding": "gzip", "accept-encoding": "gzip" },
    body: gzipSync(sqrt(4)),
  },
  {
    name: "Connect GET (HTTP/1.1)",
    http: 1,
    method: "GET",
    path: `${path}?encoding=json&message=${encodeURIComponent('{"number":4}')}`,
    headers: { "x-request-id": "same-id" },
  },
  {
    name: "Connect GET, proto and base64 (HTTP/2)",
    http: 2,
    method: "GET",
    path: `${path}?encoding=proto&base64=1&message=${Buffer.from(sqrt(4)).toString("base64url")}&connect=v1`,
    headers: { "x-request-id": "same-id" },
  },
  {
    name: "Connect GET not modified (HTTP/2)",
    http: 2,
    method: "GET",
    path: `${path}?encoding=json&message=${encodeURIComponent('{"number":4}')}`,
    headers: { "x-request-id": "same-id", "if-none-match": 'W/"*"' },
  },
  {
    name: "Connect GET bad version",
    http: 1,
    method: "GET",
    path: `${path}?encoding=json&message=${encodeURIComponent('{"number":4}')}&connect=v2`,
    headers: { "x-request-id": "same-id" },
  },
  { name: "gRPC server stream", http: 2, path: lotsOfReplies, headers: grpc, body: envelope(replies("fast")) },
  { name: "gRPC server stream refused before its first message", http: 2, path: lotsOfReplies, headers: grpc, body: envelope(replies("")) },
  {
    name: "gRPC server stream, gzip answers",
    http: 2,
    path: "/movie.v1.MovieService/ListMovies",
    headers: { ...grpc, "grpc-accept-encoding": "gzip" },
    body: envelope(new Uint8Array(0)),
  },
  {
    name: "gRPC server stream, two request messages",
    http: 2,
    path: lotsOfReplies,
    headers: grpc,
    body: new Uint8Array([...envelope(replies("a")), ...envelope(replies("b"))]),
  },
  { name: "gRPC server stream, empty body", http: 2, path: lotsOfReplies, headers: grpc, body: new Uint8Array(0) },
  {
    name: "Greeter over Connect JSON",
    http: 1,
    path: "/greeter.v1.GreeterService/SayHello",
    headers: connectJson,
    body: json('{"name": "fast path"}'),
  },
];

async function send(baseUrl: string, request: RawCase): Promise<RawAnswer> {
  if (request.http === 1) {
    const response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method ?? "POST",
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const headers: Record<string, string | undefined> = {};
    for (const name of compared) headers[name] = response.headers.get(name) ?? undefined;
    return { status: response.status, headers, trailers: {}, body: Buffer.from(await response.arrayBuffer()).toString("hex") };
  }
  const session = http2.connect(baseUrl);
  try {
    return await new Promise<RawAnswer>((resolve, reject) => {
      const stream = session.request({ ":method": request.method ?? "POST", ":path": request.path, ...request.headers });
      const answer: RawAnswer = { status: 0, headers: {}, trailers: {}, body: "" };
      const chunks: Buffer[] = [];
      stream.on("response", (headers) => {
        answer.status = Number(headers[":status"]);
        for (const name of compared) answer.headers[name] = headers[name] as string | undefined;
      });
      stream.on("trailers", (trailers) => {
        for (const name of compared) answer.trailers[name] = trailers[name] as string | undefined;
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => resolve({ ...answer, body: Buffer.concat(chunks).toString("hex") }));
      stream.on("error", reject);
      stream.end(request.body === undefined ? undefined : Buffer.from(request.body));
    });
  } finally {
    session.close();
  }
}

describe("the fast path answers as connect-node does", () => {
  let fast: TestServer;
  let slow: TestServer;
  before(async () => {
    // Small messages are compressed too, so that streams' compressed envelopes are compared.
    const env = { COMPRESS_MIN_BYTES: "16" };
    [fast, slow] = await Promise.all([startTestServer({ ...env, FAST_PATH: "on" }), startTestServer({ ...env, FAST_PATH: "off" })]);
  });
  after(async () => {
    await Promise.all([fast.shutdown(), slow.shutdown()]);
  });

  for (const request of cases) {
    test(request.name, async () => {
      // A 304 needs the ETag of the answer: ask once for it.
      let sent = request;
      if (request.headers["if-none-match"] !== undefined) {
        const first = await send(slow.baseUrl, { ...request, headers: { "x-request-id": "same-id" } });
        await send(fast.baseUrl, { ...request, headers: { "x-request-id": "same-id" } });
        assert.ok(first.headers.etag);
        sent = { ...request, headers: { ...request.headers, "if-none-match": first.headers.etag } };
      }
      const [onFast, onSlow] = [await send(fast.baseUrl, sent), await send(slow.baseUrl, sent)];
      assert.deepEqual(onFast, onSlow);
      if (request.headers["if-none-match"] !== undefined) assert.equal(onFast.status, 304);
    });
  }

  test("and the call log says the same", () => {
    for (const procedure of [path, lotsOfReplies]) {
      const fields = (server: TestServer) =>
        server
          .callLogs(procedure)
          .map(({ code, protocol, http, method, requestId, msg }) => ({ code, protocol, http, method, requestId, msg }));
      assert.ok(fields(fast).length > 0, `no log lines of ${procedure}`);
      assert.deepEqual(fields(fast), fields(slow));
    }
  });
});

describe("a gRPC server stream on the fast path", () => {
  const movies = 2_000;
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ FAST_PATH: "on" });
    // About 80 KB of messages: far more than the client's 1 KiB window and
    // the stream's 16 KiB buffer, so the server must wait for them to drain.
    const width = 4;
    for (let i = 0; i < movies; i++) {
      const n = String(i).padStart(width, "0");
      await server.dependencies.movies.create({ id: `slow-${n}`, title: `Slow reader ${n}`, director: "Nobody", rating: 5 });
    }
  });
  after(async () => {
    await server.shutdown();
  });

  /** ListMovies over a raw HTTP/2 stream with a 1 KiB window, paused for `pauseMs` after its first bytes; the messages, by envelope. */
  const listSlowly = (pauseMs: number) => {
    const session = http2.connect(server.baseUrl, { settings: { initialWindowSize: 1024 } });
    return new Promise<{ messages: Buffer[]; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/movie.v1.MovieService/ListMovies", ...grpc });
      const chunks: Buffer[] = [];
      let trailers: http2.IncomingHttpHeaders = {};
      let paused = false;
      stream.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        if (!paused) {
          paused = true;
          stream.pause();
          setTimeout(() => stream.resume(), pauseMs);
        }
      });
      stream.on("trailers", (received) => {
        trailers = received;
      });
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        const messages: Buffer[] = [];
        for (let at = 0; at < body.length; ) {
          const length = body.readUInt32BE(at + 1);
          messages.push(body.subarray(at + 5, at + 5 + length));
          at += 5 + length;
        }
        resolve({ messages, trailers });
      });
      stream.on("error", reject);
      stream.end(Buffer.from(envelope(new Uint8Array(0))));
    }).finally(() => session.close());
  };

  test("read slowly, arrives whole and in order, as when read at once", async () => {
    const before = server.fastPath?.serverStream ?? 0;
    const slow = await listSlowly(300);
    const fast = await listSlowly(0);
    assert.equal(server.fastPath?.serverStream, before + 2, "the streams did not take the fast path");
    assert.equal(slow.trailers["grpc-status"], "0");
    assert.ok(slow.messages.length >= movies, `only ${slow.messages.length} messages`);
    assert.deepEqual(slow.messages, fast.messages);
  });

  test("a client that stops reading and then resets the stream ends the call, logged as canceled", async () => {
    const logged = server.callLogs("/movie.v1.MovieService/ListMovies").length;
    const session = http2.connect(server.baseUrl, { settings: { initialWindowSize: 1024 } });
    try {
      const stream = session.request({ ":method": "POST", ":path": "/movie.v1.MovieService/ListMovies", ...grpc });
      stream.on("error", () => {});
      stream.end(Buffer.from(envelope(new Uint8Array(0))));
      await new Promise<void>((resolve) => stream.once("data", () => resolve()));
      stream.pause();
      // The server now waits for the window to open; the client goes instead.
      await new Promise((resolve) => setTimeout(resolve, 100));
      stream.close(http2.constants.NGHTTP2_CANCEL);
      const line = await server.waitForCallLog("/movie.v1.MovieService/ListMovies", logged + 1);
      assert.equal(line.code, "canceled");
    } finally {
      session.close();
    }
  });
});
