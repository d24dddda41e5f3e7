import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { rejection } from "../support/assert.js";
import { startTestServer } from "../support/server.js";

// The transport's limits, observed from outside: what a slow, silent,
// confused or greedy client experiences.

const headersTimeoutMs = 300;
const idleTimeoutMs = 1_000;
/** Each test waits for the server to act; a server that never does fails the test instead of hanging it. */
const waitLimit = { timeout: 10_000 };

const server = await startTestServer({
  HEADERS_TIMEOUT_MS: String(headersTimeoutMs),
  IDLE_TIMEOUT_MS: String(idleTimeoutMs),
  HTTP2_MAX_CONCURRENT_STREAMS: "3",
  MAX_TIMEOUT_MS: "2000",
});
after(() => server.shutdown());

/** Opens a raw TCP connection, writes `bytes` if given, and reports what came back and when it closed. */
async function rawConnection(bytes?: string | Buffer): Promise<{ received: string; closedAfterMs: number }> {
  // Timed from before connecting: the server's clock cannot start earlier.
  const started = performance.now();
  const socket = net.connect(server.port, "127.0.0.1");
  await once(socket, "connect");
  if (bytes !== undefined) socket.write(bytes);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  await once(socket, "close");
  return { received: Buffer.concat(chunks).toString("latin1"), closedAfterMs: performance.now() - started };
}

async function assertStillServing(): Promise<void> {
  const response = await fetch(`${server.baseUrl}/greeter.v1.GreeterService/SayHello`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"name":"Ada"}',
  });
  assert.equal(response.status, 200);
}

describe("HEADERS_TIMEOUT_MS", () => {
  test("a connection that sends nothing is closed", waitLimit, async () => {
    const { received, closedAfterMs } = await rawConnection();
    assert.equal(received, "");
    assert.ok(
      closedAfterMs >= headersTimeoutMs - 20 && closedAfterMs < headersTimeoutMs + 1_000,
      `closed after ${Math.round(closedAfterMs)} ms`,
    );
    await assertStillServing();
  });

  test("an HTTP/2 connection that opens no stream is closed with GOAWAY", waitLimit, async () => {
    // Preface and SETTINGS, then silence: before, such a connection stayed for the whole idle timeout.
    const { received, closedAfterMs } = await rawConnection(
      Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]),
    );
    const frameTypes: number[] = [];
    const bytes = Buffer.from(received, "latin1");
    for (let offset = 0; offset + 9 <= bytes.length; offset += 9 + bytes.readUIntBE(offset, 3)) frameTypes.push(bytes[offset + 3] ?? -1);
    assert.ok(frameTypes.includes(0x7), `frame types ${frameTypes.join(", ")}`);
    // Sooner than the idle timeout, which closed it before.
    assert.ok(
      closedAfterMs >= headersTimeoutMs - 20 && closedAfterMs < idleTimeoutMs - 100,
      `closed after ${Math.round(closedAfterMs)} ms`,
    );
    await assertStillServing();
  });

  test("HTTP/1.1 headers that never finish get 408 and the connection is closed", waitLimit, async () => {
    const { received, closedAfterMs } = await rawConnection("POST /greeter.v1.GreeterService/SayHello HTTP/1.1\r\nHost: x\r\n");
    assert.match(received, /^HTTP\/1\.1 408 /);
    assert.ok(closedAfterMs < headersTimeoutMs + 1_000, `closed after ${Math.round(closedAfterMs)} ms`);
    await assertStillServing();
  });
});

describe("garbage", () => {
  test("bytes that are not HTTP get 400 and a closed connection", waitLimit, async () => {
    const { received } = await rawConnection(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
    assert.match(received, /^HTTP\/1\.1 400 Bad Request/);
    await assertStillServing();
  });

  test("HTTP/1.1 headers larger than 16 KiB get 431", waitLimit, async () => {
    const { received } = await rawConnection(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    assert.match(received, /^HTTP\/1\.1 431 /);
    await assertStillServing();
  });

  test("the HTTP/2 preface followed by garbage gets GOAWAY and a closed connection", waitLimit, async () => {
    const { received } = await rawConnection(
      Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), Buffer.alloc(64, 0xee)]),
    );
    // The server's SETTINGS frame (type 0x4) comes first, then a GOAWAY frame (type 0x7).
    const frameTypes: number[] = [];
    const bytes = Buffer.from(received, "latin1");
    for (let offset = 0; offset + 9 <= bytes.length; offset += 9 + bytes.readUIntBE(offset, 3)) frameTypes.push(bytes[offset + 3] ?? -1);
    assert.ok(frameTypes.includes(0x7), `frame types ${frameTypes.join(", ")}`);
    await assertStillServing();
  });
});

describe("IDLE_TIMEOUT_MS", () => {
  test("an HTTP/2 connection whose last call has ended is closed", waitLimit, async () => {
    const session = http2.connect(server.baseUrl);
    const closed = once(session, "close");
    const call = session.request({ ":method": "GET", ":path": "/no-such-page" });
    call.resume();
    await once(call, "close");
    const started = performance.now();
    await closed;
    const closedAfterMs = performance.now() - started;
    assert.ok(closedAfterMs >= idleTimeoutMs - 20 && closedAfterMs < idleTimeoutMs * 3, `closed after ${Math.round(closedAfterMs)} ms`);
  });

  test("a quiet HTTP/2 stream is not idle: it outlives the timeout", waitLimit, async () => {
    const sessionManager = new Http2SessionManager(server.baseUrl);
    after(() => sessionManager.abort());
    const greeter = createClient(GreeterService, createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }));
    const replies = greeter.bidiHello(
      (async function* () {
        await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs * 1.5));
        yield { name: "Ada" };
      })(),
    );
    const messages = [];
    for await (const reply of replies) messages.push(reply.message);
    assert.deepEqual(messages, ["Hello, Ada!"]);
  });

  test("an idle HTTP/1.1 keep-alive connection is closed", waitLimit, async () => {
    // A raw socket: Node's own client agent would close it first, on the server's keep-alive hint.
    const socket = net.connect(server.port, "127.0.0.1");
    socket.write("GET /no-such-page HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const started = performance.now();
    const [answer] = (await once(socket, "data")) as [Buffer];
    assert.match(answer.toString("latin1"), /^HTTP\/1\.1 404 [\s\S]*\r\nConnection: keep-alive\r\nKeep-Alive: timeout=1\r\n/i);
    await once(socket, "close");
    const closedAfterMs = performance.now() - started;
    assert.ok(closedAfterMs >= idleTimeoutMs - 20 && closedAfterMs < idleTimeoutMs * 3, `closed after ${Math.round(closedAfterMs)} ms`);
  });
});

describe("HTTP2_MAX_CONCURRENT_STREAMS", () => {
  const streamMs = 6 * 100;
  const slowStream = (greeter: ReturnType<typeof createClient<typeof GreeterService>>) =>
    (async () => {
      const started = performance.now();
      for await (const _ of greeter.lotsOfReplies({ name: "Ada", delayMs: 100 }));
      return performance.now() - started;
    })();

  test("is announced in SETTINGS, and a client that knows it waits its turn", waitLimit, async () => {
    const sessionManager = new Http2SessionManager(server.baseUrl);
    after(() => sessionManager.abort());
    const greeter = createClient(GreeterService, createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }));
    await greeter.sayHello({ name: "Ada" }); // the client has the server's SETTINGS now
    const durations = (await Promise.all(Array.from({ length: 5 }, () => slowStream(greeter)))).sort((a, b) => a - b);
    // Three run at once; the other two start when those end.
    assert.ok((durations[3] ?? 0) >= 2 * streamMs - 20, `durations ${durations.map(Math.round).join(", ")} ms`);
  });

  test("streams beyond the limit are refused with REFUSED_STREAM, safe to retry", waitLimit, async () => {
    const session = http2.connect(server.baseUrl);
    after(() => session.close());
    // Sent before the server's SETTINGS arrive, so the client does not hold any back.
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/greeter.v1.GreeterService/LotsOfReplies",
          "content-type": "application/connect+json",
        });
        stream.end(Buffer.concat([Buffer.from([0, 0, 0, 0, 28]), Buffer.from('{"name":"Ada","delayMs":100}')]));
        stream.on("error", () => {}); // a refused stream errors; its reset code says why
        stream.resume();
        return new Promise<number>((resolve) => stream.on("close", () => resolve(stream.rstCode)));
      }),
    );
    assert.equal(session.remoteSettings.maxConcurrentStreams, 3);
    assert.deepEqual(outcomes.sort(), [
      http2.constants.NGHTTP2_NO_ERROR,
      http2.constants.NGHTTP2_NO_ERROR,
      http2.constants.NGHTTP2_NO_ERROR,
      http2.constants.NGHTTP2_REFUSED_STREAM,
      http2.constants.NGHTTP2_REFUSED_STREAM,
    ]);
  });
});

test("MAX_TIMEOUT_MS: a longer deadline is refused with INVALID_ARGUMENT", waitLimit, async () => {
  const sessionManager = new Http2SessionManager(server.baseUrl);
  after(() => sessionManager.abort());
  const greeter = createClient(GreeterService, createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }));
  const error = await rejection(greeter.sayHello({ name: "Ada" }, { timeoutMs: 5_000 }));
  assert.equal(error.code, Code.InvalidArgument);
  assert.match(error.rawMessage, /timeout 5000ms must be <= 2000/);
  assert.equal((await greeter.sayHello({ name: "Ada" }, { timeoutMs: 1_500 })).message, "Hello, Ada!");
});
