import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { SayHelloRequestSchema } from "../../gen/greeter/v1/greeter_pb.js";
import { frameType, headerBlock, headersFrame, RawH2Connection } from "../support/h2-frames.js";
import { startServerProcess } from "../support/process.js";
import { envelope, grpcStatus, h2Request } from "../support/raw.js";

// Requests whose Host, :authority or deadline once ended the server process
// (connect-node's `new URL(path, "http://" + host)` threw out of the request
// handler) or printed a TimeoutOverflowWarning. The server runs as a process
// of its own, so an uncaught exception would really end it.

const server = await startServerProcess({ LOG_LEVEL: "info" });
after(() => server.child.kill("SIGKILL"));

const sayHello = "/greeter.v1.GreeterService/SayHello";
const helloJson = '{"name":"Ada"}';
const waitLimit = { timeout: 10_000 };

/** Sends raw HTTP/1.x bytes and returns everything the server wrote until it closed the connection. */
async function rawHttp1(request: string): Promise<{ status: number; text: string }> {
  const socket = net.connect(server.port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(request);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  await once(socket, "close");
  const text = Buffer.concat(chunks).toString("latin1");
  return { status: Number(/^HTTP\/1\.[01] (\d{3}) /.exec(text)?.[1]), text };
}

/** A JSON POST to SayHello with exactly these header lines (and Connection: close). */
function postWith(version: "1.0" | "1.1", headerLines: string[]): Promise<{ status: number; text: string }> {
  return rawHttp1(
    [
      `POST ${sayHello} HTTP/${version}`,
      ...headerLines,
      "Content-Type: application/json",
      `Content-Length: ${helloJson.length}`,
      "Connection: close",
      "",
      helloJson,
    ].join("\r\n"),
  );
}

/** A normal call still gets its answer: the server survived what came before. */
async function assertStillServing(): Promise<void> {
  assert.equal(server.child.exitCode, null, "the server process is alive");
  const response = await fetch(`${server.baseUrl}${sayHello}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: helloJson,
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { message: "Hello, Ada!" });
}

describe("HTTP/1.1 Host", () => {
  for (const [name, lines, message] of [
    ["a port over 65535", ["Host: x:99999"], /the Host header \\"x:99999\\" is not a valid host\[:port\]/],
    ["an empty Host", ["Host:"], /the Host header is empty/],
    ['"["', ["Host: ["], /the Host header \\"\[\\" is not a valid host\[:port\]/],
    ["user info", ["Host: user@example.com"], /not a valid host\[:port\]/],
    ["no Host", [], /HTTP\/1\.1 requests must carry a Host header/],
    ["two Host lines", ["Host: a.example", "Host: b.example"], /more than one Host header/],
  ] as const) {
    test(`${name}: 400 with a reason, and the server carries on`, waitLimit, async () => {
      const answer = await postWith("1.1", [...lines]);
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.text, /"code":"invalid_argument"/);
      assert.match(answer.text, message);
      await assertStillServing();
    });
  }

  test("each refusal is logged with the path", waitLimit, async () => {
    await postWith("1.1", ["Host: x:99999"]);
    const line = await server.waitForLog((record) => typeof record.msg === "string" && record.msg.includes('"x:99999"'));
    assert.equal(line.path, sayHello);
    assert.equal(line.level, 30);
  });
});

describe("HTTP/1.1 requests that cannot be parsed", () => {
  test("garbage: 400 with the parser's reason, logged", waitLimit, async () => {
    const answer = await rawHttp1("GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n");
    assert.equal(answer.status, 400, answer.text);
    assert.match(answer.text, /\r\n\r\nmalformed HTTP\/1\.1 request: .+\n$/);
    await server.waitForLog((record) => record.msg === "refused malformed HTTP/1.1 requests" && record.status === "400 Bad Request");
    await assertStillServing();
  });

  test("headers over MAX_HEADER_BYTES: 431 saying the limit", waitLimit, async () => {
    const answer = await rawHttp1(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    assert.equal(answer.status, 431, answer.text);
    assert.match(answer.text, /request headers are larger than the 16384 bytes allowed/);
    await assertStillServing();
  });
});

describe("HTTP/1.0 without Host", () => {
  // RFC 9112 §3.3: the authority is then the server's own address.
  test("an RPC is answered", waitLimit, async () => {
    const answer = await postWith("1.0", []);
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /\{"message":"Hello, Ada!"\}/);
    await assertStillServing();
  });

  test("a load balancer's probe is answered", waitLimit, async () => {
    const answer = await rawHttp1("GET /healthz HTTP/1.0\r\n\r\n");
    assert.equal(answer.status, 200, answer.text);
  });

  test("a bad Host is still refused", waitLimit, async () => {
    const answer = await postWith("1.0", ["Host: x:99999"]);
    assert.equal(answer.status, 400, answer.text);
    await assertStillServing();
  });
});

describe("HTTP/2 :authority", () => {
  test("a port over 65535: 400 for Connect", waitLimit, async () => {
    const session = http2.connect(server.baseUrl);
    after(() => session.close());
    const answer = await h2Request(
      session,
      { ":path": sayHello, ":authority": "x:99999", "content-type": "application/json" },
      Buffer.from(helloJson),
    );
    assert.equal(answer.headers[":status"], 400);
    assert.match(answer.body.toString(), /the :authority header \\"x:99999\\" is not a valid host\[:port\]/);
    await assertStillServing();
  });

  test("a port over 65535: INVALID_ARGUMENT for gRPC", waitLimit, async () => {
    const session = http2.connect(server.baseUrl);
    after(() => session.close());
    const answer = await h2Request(
      session,
      { ":path": sayHello, ":authority": "x:99999", "content-type": "application/grpc", te: "trailers" },
      envelope(toBinary(SayHelloRequestSchema, create(SayHelloRequestSchema, { name: "Ada" }))),
    );
    assert.equal(answer.headers[":status"], 400);
    const status = grpcStatus(answer);
    assert.equal(status.code, 3);
    assert.match(status.message, /:authority header "x:99999"/);
    await assertStillServing();
  });

  test("neither :authority nor Host: the stream is refused as malformed", waitLimit, async () => {
    // Node's client always sends :authority; this request is written by hand.
    // nghttp2 refuses it before the server sees it (RFC 9113 §8.1.1).
    const connection = await RawH2Connection.open(server.port);
    after(() => connection.destroy());
    const block = headerBlock([
      [":path", sayHello],
      ["content-type", "application/json"],
    ]);
    await connection.write(headersFrame(1, block, true));
    const answer = await connection.waitFor((f) => f.streamId === 1 && (f.type === frameType.headers || f.type === frameType.rstStream));
    assert.equal(answer?.type, frameType.rstStream);
    assert.equal(answer?.payload.readUInt32BE(0), http2.constants.NGHTTP2_PROTOCOL_ERROR);
    await assertStillServing();
  });
});

describe("deadlines too long for a timer", () => {
  test("gRPC grpc-timeout 99999999H: INVALID_ARGUMENT naming the limit", waitLimit, async () => {
    const session = http2.connect(server.baseUrl);
    after(() => session.close());
    const answer = await h2Request(
      session,
      { ":path": sayHello, "content-type": "application/grpc", te: "trailers", "grpc-timeout": "99999999H" },
      envelope(toBinary(SayHelloRequestSchema, create(SayHelloRequestSchema, { name: "Ada" }))),
    );
    const status = grpcStatus(answer);
    assert.equal(status.code, 3);
    assert.match(status.message, /99999999H is longer than the longest deadline this server allows, 300000 ms/);
  });

  test("Connect connect-timeout-ms beyond a timer (and beyond its 10 digits): INVALID_ARGUMENT", waitLimit, async () => {
    for (const timeout of ["9999999999", "99999999999999"]) {
      const response = await fetch(`${server.baseUrl}${sayHello}`, {
        method: "POST",
        headers: { "content-type": "application/json", "connect-timeout-ms": timeout },
        body: helloJson,
      });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { code: string; message: string };
      assert.equal(body.code, "invalid_argument");
      assert.match(body.message, new RegExp(timeout));
    }
  });

  test("gRPC-Web over HTTP/1.1: INVALID_ARGUMENT", waitLimit, async () => {
    const response = await fetch(`${server.baseUrl}${sayHello}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "grpc-timeout": "99999999H" },
      body: envelope(toBinary(SayHelloRequestSchema, create(SayHelloRequestSchema, { name: "Ada" }))),
    });
    // The status comes in the trailers, a frame at the end of the body.
    const body = Buffer.from(await response.arrayBuffer()).toString("latin1");
    assert.match(body, /grpc-status: ?3\r\n/);
    assert.match(decodeURIComponent(body.slice(5)), /99999999H is longer than the longest deadline/);
  });

  test("each is logged", waitLimit, async () => {
    const line = await server.waitForLog((record) => record.msg === "refused a deadline over MAX_TIMEOUT_MS");
    assert.match(String(line.header), /^(grpc-timeout|connect-timeout-ms): /);
  });
});

test("after all of it the process is alive, exits cleanly, and wrote nothing but JSON log lines", waitLimit, async () => {
  await assertStillServing();
  const code = await server.stop();
  const { stderr, output } = await server.exited;
  assert.equal(code, 0);
  assert.equal(stderr, "", "nothing on stderr: no warning, no stack trace");
  for (const line of output.split("\n").filter((text) => text !== "")) {
    assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
  }
});
