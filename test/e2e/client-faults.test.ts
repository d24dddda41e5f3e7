import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { envelope, envelopes, grpcStatus, h2Request, type RawH2Answer } from "../support/raw.js";
import { type LogRecord, startTestServer } from "../support/server.js";

// Requests that connect-es cannot read, or refuses before a call begins, as
// raw HTTP in each protocol: each gets the status the reference
// implementations give (INVALID_ARGUMENT where connect-go says so, never
// INTERNAL for a client's fault), a message a person can act on, and exactly
// one call log line.

const server = await startTestServer();
const session = http2.connect(server.baseUrl);
after(async () => {
  session.close();
  await server.shutdown();
});

const sayHello = "/greeter.v1.GreeterService/SayHello";
const lotsOfGreetings = "/greeter.v1.GreeterService/LotsOfGreetings";
/** Field 1 with a length that runs past the end of the message. */
const truncated = Buffer.from([0x0a, 0xff, 0x01, 0x41]);
/** SayHelloRequest{name: "Ada"}. */
const ada = Buffer.from([0x0a, 0x03, 0x41, 0x64, 0x61]);
const notProtobuf = (type: string) => `the request message is not valid binary protobuf for greeter.v1.${type}`;

let requests = 0;
/** A fresh x-request-id, so the test can find the one log line of its request. */
function nextRequestId(): string {
  requests += 1;
  return `fault-${requests}`;
}

/** The log lines of one request: there must be exactly one. */
async function theLogLine(requestId: string): Promise<LogRecord> {
  for (let waited = 0; waited < 2_000; waited += 10) {
    const lines = server.logs.filter((record) => record.requestId === requestId);
    if (lines.length > 0) {
      // Give a second line, if any, the time to show up.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const all = server.logs.filter((record) => record.requestId === requestId);
      assert.equal(all.length, 1, `one log line for ${requestId}, got ${JSON.stringify(all)}`);
      return all[0] as LogRecord;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no log line for ${requestId}`);
}

async function post(path: string, headers: Record<string, string>, body: Uint8Array | string) {
  const requestId = nextRequestId();
  const response = await fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { ...headers, "x-request-id": requestId }, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { response, bytes, requestId };
}

async function get(pathAndQuery: string) {
  const requestId = nextRequestId();
  const response = await fetch(`${server.baseUrl}${pathAndQuery}`, { headers: { "x-request-id": requestId } });
  return { response, body: await response.text(), requestId };
}

async function grpc(path: string, body: Uint8Array, extra: http2.OutgoingHttpHeaders = {}): Promise<RawH2Answer & { requestId: string }> {
  const requestId = nextRequestId();
  const answer = await h2Request(
    session,
    { ":path": path, "content-type": "application/grpc", te: "trailers", "x-request-id": requestId, ...extra },
    body,
  );
  return { ...answer, requestId };
}

function assertLogged(line: LogRecord, expected: { procedure: string; protocol: string; code: string; message: string }): void {
  assert.equal(line.procedure, expected.procedure);
  assert.equal(line.protocol, expected.protocol);
  assert.equal(line.code, expected.code);
  assert.equal(line.msg, `call failed: ${expected.message}`);
}

describe("a request message that cannot be decoded: INVALID_ARGUMENT in every protocol", () => {
  test("Connect binary", async () => {
    const { response, bytes, requestId } = await post(sayHello, { "content-type": "application/proto" }, truncated);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("x-request-id"), requestId);
    assert.deepEqual(JSON.parse(bytes.toString("utf8")), { code: "invalid_argument", message: notProtobuf("SayHelloRequest") });
    const line = await theLogLine(requestId);
    assertLogged(line, { procedure: sayHello, protocol: "connect", code: "invalid_argument", message: notProtobuf("SayHelloRequest") });
    assert.match(String(line.cause), /^parse binary: /, "the parser's own words stay in the log, for us");
  });

  test("Connect JSON", async () => {
    const { response, bytes, requestId } = await post(sayHello, { "content-type": "application/json" }, '{"name": "Ada"');
    assert.equal(response.status, 400);
    const body = JSON.parse(bytes.toString("utf8")) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /^the request message is not valid JSON for greeter\.v1\.SayHelloRequest: /);
    assert.equal((await theLogLine(requestId)).code, "invalid_argument");
  });

  test("gRPC", async () => {
    const answer = await grpc(sayHello, envelope(truncated));
    assert.equal(answer.headers[":status"], 200);
    assert.equal(answer.headers["x-request-id"], answer.requestId);
    assert.deepEqual(grpcStatus(answer), { code: Code.InvalidArgument, message: notProtobuf("SayHelloRequest") });
    assertLogged(await theLogLine(answer.requestId), {
      procedure: sayHello,
      protocol: "grpc",
      code: "invalid_argument",
      message: notProtobuf("SayHelloRequest"),
    });
  });

  test("gRPC-Web", async () => {
    const { response, bytes, requestId } = await post(sayHello, { "content-type": "application/grpc-web+proto" }, envelope(truncated));
    assert.equal(response.status, 200);
    const trailer =
      envelopes(bytes)
        .find(({ flags }) => flags === 0x80)
        ?.data.toString("utf8") ?? "";
    assert.match(trailer, /grpc-status: 3\r\n/);
    assert.equal(/grpc-message: (.*)\r\n/.exec(trailer)?.[1], encodeURIComponent(notProtobuf("SayHelloRequest")));
    assertLogged(await theLogLine(requestId), {
      procedure: sayHello,
      protocol: "grpc-web",
      code: "invalid_argument",
      message: notProtobuf("SayHelloRequest"),
    });
  });

  test("a message in a stream: Connect and gRPC", async () => {
    const connect = await post(lotsOfGreetings, { "content-type": "application/connect+proto" }, envelope(truncated));
    assert.equal(connect.response.status, 200);
    const [end] = envelopes(connect.bytes);
    assert.equal(end?.flags, 2, "an end-of-stream message");
    assert.deepEqual((JSON.parse(end.data.toString("utf8")) as { error: unknown }).error, {
      code: "invalid_argument",
      message: notProtobuf("LotsOfGreetingsRequest"),
    });
    const line = await theLogLine(connect.requestId);
    assert.equal(line.code, "invalid_argument");
    assert.match(String(line.cause), /^parse binary: /);

    const answer = await grpc(lotsOfGreetings, Buffer.concat([envelope(ada), envelope(truncated)]));
    assert.deepEqual(grpcStatus(answer), { code: Code.InvalidArgument, message: notProtobuf("LotsOfGreetingsRequest") });
    assert.equal((await theLogLine(answer.requestId)).code, "invalid_argument");
  });
});

// Found by the fuzzer (case 7:738): the error quoted the lone surrogate back,
// connect-es could not percent-encode it into grpc-message, and the call never ended.
test("JSON escaping half a surrogate pair is answered INVALID_ARGUMENT over gRPC, not left hanging", async () => {
  const json = Buffer.from(String.raw`{"value":"\ud800"}`);
  const answer = await grpc("/Calculator/SquareRoot", envelope(json, 0), { "content-type": "application/grpc+json" });
  assert.equal(grpcStatus(answer).code, Code.InvalidArgument);
  assert.match(grpcStatus(answer).message, /escapes half of a surrogate pair/);
  assert.equal((await theLogLine(answer.requestId)).code, "invalid_argument");
});

describe("framing and compression faults", () => {
  test("a message cut short", async () => {
    const answer = await grpc(sayHello, Buffer.from([0, 0, 0, 0, 9, 0x0a]));
    assert.equal(grpcStatus(answer).code, Code.InvalidArgument);
    assert.match(grpcStatus(answer).message, /^the request ends in the middle of a message: each message is framed as/);
    assert.equal((await theLogLine(answer.requestId)).code, "invalid_argument");
  });

  test("a message flagged as compressed with no compression named: INTERNAL, as gRPC's compression spec says, in words for people", async () => {
    const answer = await grpc(sayHello, envelope(gzipSync(ada), 1));
    assert.equal(grpcStatus(answer).code, Code.Internal);
    assert.match(grpcStatus(answer).message, /flagged as compressed, but the request names no compression: set grpc-encoding/);
    assert.equal((await theLogLine(answer.requestId)).code, "internal");
  });

  test("bytes that are not what the named compression makes", async () => {
    const notGzip = Buffer.from("this is not gzip at all");
    const answer = await grpc(sayHello, envelope(notGzip, 1), { "grpc-encoding": "gzip" });
    assert.equal(grpcStatus(answer).code, Code.InvalidArgument);
    assert.match(grpcStatus(answer).message, /^the request message cannot be decompressed/);

    const cutGzip = gzipSync(Buffer.from('{"name":"Ada"}')).subarray(0, 12);
    const { response, bytes, requestId } = await post(
      sayHello,
      { "content-type": "application/json", "content-encoding": "gzip" },
      cutGzip,
    );
    assert.equal(response.status, 400);
    assert.equal((JSON.parse(bytes.toString("utf8")) as { code: string }).code, "invalid_argument");
    assert.equal((await theLogLine(requestId)).code, "invalid_argument");
  });

  test("a unary call with no message, or two: UNIMPLEMENTED, as gRPC's status table says", async () => {
    const none = await grpc(sayHello, new Uint8Array(0));
    assert.deepEqual(grpcStatus(none), {
      code: Code.Unimplemented,
      message: "missing input message: greeter.v1.GreeterService/SayHello takes exactly one request message, and the request had none",
    });
    assert.equal((await theLogLine(none.requestId)).code, "unimplemented");

    const two = await grpc(sayHello, Buffer.concat([envelope(ada), envelope(ada)]));
    assert.deepEqual(grpcStatus(two), {
      code: Code.Unimplemented,
      message: "greeter.v1.GreeterService/SayHello takes exactly one request message, and the request had more than one",
    });
    assert.equal((await theLogLine(two.requestId)).code, "unimplemented");
  });
});

describe("Connect GET parameters", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["bad base64", `${sayHello}?encoding=proto&base64=1&message=%21%21%21`, /^the message parameter is not valid base64url/],
    [
      "bad JSON",
      `${sayHello}?encoding=json&message=${encodeURIComponent("{name:")}`,
      /^the request message is not valid JSON for greeter\.v1\.SayHelloRequest: /,
    ],
    ["missing message", `${sayHello}?encoding=json`, /^the message parameter is missing: /],
    ["missing encoding", `${sayHello}?message=${encodeURIComponent("{}")}`, /^the encoding parameter is missing: /],
    [
      "base64 that decodes to no valid message",
      `${sayHello}?encoding=proto&base64=1&message=${truncated.toString("base64url")}`,
      /^the request message is not valid binary protobuf/,
    ],
  ];
  for (const [name, path, message] of cases) {
    test(`${name}: 400 invalid_argument`, async () => {
      const { response, body, requestId } = await get(path);
      assert.equal(response.status, 400);
      const error = JSON.parse(body) as { code: string; message: string };
      assert.equal(error.code, "invalid_argument");
      assert.match(error.message, message);
      const line = await theLogLine(requestId);
      assert.equal(line.method, "GET");
      assert.equal(line.code, "invalid_argument");
    });
  }

  test("an unknown encoding: 415, as for a POST with an unknown codec, saying what to use", async () => {
    const { response, body, requestId } = await get(`${sayHello}?encoding=xml&message=x`);
    assert.equal(response.status, 415);
    assert.equal(body, "encoding=xml is not supported: use encoding=json or encoding=proto\n");
    const line = await theLogLine(requestId);
    assert.equal(line.status, 415);
  });
});

describe("requests refused before a call begins get their log line too", () => {
  test("an unsupported content type: 415 with the types to use", async () => {
    const { response, bytes, requestId } = await post(sayHello, { "content-type": "application/x-www-form-urlencoded" }, "name=Ada");
    assert.equal(response.status, 415);
    assert.equal(response.headers.get("x-request-id"), requestId);
    assert.match(
      bytes.toString("utf8"),
      /^content-type "application\/x-www-form-urlencoded" is not one greeter\.v1\.GreeterService\/SayHello accepts: send application\/json or application\/proto \(Connect\)/,
    );
    const line = await theLogLine(requestId);
    assert.equal(line.procedure, sayHello);
    assert.equal(line.status, 415);
  });

  test("gRPC with an unknown codec: 415, and grpc-status for gRPC clients as grpc-go sends", async () => {
    const answer = await grpc(sayHello, envelope(ada), { "content-type": "application/grpc+xml" });
    assert.equal(answer.headers[":status"], 415);
    assert.equal(grpcStatus(answer).code, Code.InvalidArgument);
    assert.equal((await theLogLine(answer.requestId)).status, 415);
  });

  test("a method the procedure does not take: 405 with Allow", async () => {
    const { response, body, requestId } = await get(`${lotsOfGreetings}?encoding=json&message=%7B%7D`);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    assert.equal(body, "GET is not allowed: greeter.v1.GreeterService/LotsOfGreetings takes POST\n");
    assert.equal((await theLogLine(requestId)).status, 405);
  });

  test("a path no procedure or page serves", async () => {
    const path = "/greeter.v1.GreeterService/SayGoodbye";
    const before = server.logs.length;
    const response = await fetch(`${server.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(response.status, 404);
    const lines = server.logs.slice(before).filter((record) => record.procedure === path);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.status, 404);
    assert.equal(lines[0]?.code, "unimplemented");
  });
});

test("a call that goes well is logged once, as before", async () => {
  const { response, requestId } = await post(sayHello, { "content-type": "application/proto" }, ada);
  assert.equal(response.status, 200);
  assert.equal((await theLogLine(requestId)).code, "ok");
});

test("none of these was logged as a fault of ours", () => {
  assert.deepEqual(
    server.logs.filter((record) => record.level !== undefined && Number(record.level) >= 40),
    [],
  );
});
