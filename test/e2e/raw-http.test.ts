import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  LotsOfRepliesRequestSchema,
  LotsOfRepliesResponseSchema,
  SayHelloRequestSchema,
  SayHelloResponseSchema,
} from "../../gen/greeter/v1/greeter_pb.js";
import { envelope, envelopes, grpcStatus, h2Request } from "../support/raw.js";
import { startTestServer } from "../support/server.js";

/** The part of a Connect error body every client reads; details are checked in the interop suite. */
function codeAndMessage(body: unknown): { code: unknown; message: unknown } {
  const { code, message } = body as { code?: unknown; message?: unknown };
  return { code, message };
}

// Requests written by hand, as curl or a script would send them: no
// generated client, no Connect library on the client side.

const server = await startTestServer();
after(() => server.shutdown());

/** POST a JSON body the way `curl -H 'content-type: application/json' -d ...` does. */
function postJson(path: string, body: string): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
}

describe("JSON POST, as typed with curl", () => {
  test("SayHello answers JSON", async () => {
    const response = await postJson("/greeter.v1.GreeterService/SayHello", '{"name": "Ada"}');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(await response.json(), { message: "Hello, Ada!" });
  });

  test("non-ASCII names survive the round trip", async () => {
    const response = await postJson("/greeter.v1.GreeterService/SayHelloAgain", '{"name":"なんしー"}');
    assert.deepEqual(await response.json(), { message: "Hello again, なんしー!" });
  });

  test("Calculator and the tutorial routes", async () => {
    assert.deepEqual(await (await postJson("/calculator.v1.CalculatorService/Divide", '{"a": 1, "b": 8}')).json(), { result: 0.125 });
    assert.deepEqual(await (await postJson("/Calculator/SquareRoot", '{"value": 16}')).json(), { value: 4 });
    assert.deepEqual(await (await postJson("/helloworld.Greeter/SayHello", '{"name":"Ada"}')).json(), { message: "Hello, Ada!" });
    assert.deepEqual(await (await postJson("/hello.HelloService/SayHello", '{"name":"Ada"}')).json(), { message: "こんにちは, Ada" });
  });

  test("an error is a JSON body with code and message, and a matching HTTP status", async () => {
    const tooLong = await postJson("/greeter.v1.GreeterService/SayHello", '{"name":"Bartholomew"}');
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.headers.get("content-type"), "application/json");
    assert.deepEqual(codeAndMessage(await tooLong.json()), {
      code: "invalid_argument",
      message: "name cannot be more than 10 characters, got 11",
    });

    const negative = await postJson("/Calculator/SquareRoot", '{"value": -1}');
    assert.equal(negative.status, 400);
    assert.deepEqual(codeAndMessage(await negative.json()), {
      code: "invalid_argument",
      message: "cannot take the square root of a negative number: value is -1",
    });

    const overflow = await postJson("/calculator.v1.CalculatorService/Multiply", '{"a": 1e308, "b": 10}');
    assert.equal(overflow.status, 400, "OUT_OF_RANGE maps to 400 in the Connect protocol");
    assert.equal(((await overflow.json()) as { code: string }).code, "out_of_range");
  });

  test("JSON's special number spellings reach the domain rules", async () => {
    const nan = await postJson("/calculator.v1.CalculatorService/SquareRoot", '{"number": "NaN"}');
    assert.deepEqual(codeAndMessage(await nan.json()), { code: "invalid_argument", message: "number must be a finite number, got NaN" });
    const infinite = await postJson("/calculator.v1.CalculatorService/Add", '{"a": 1, "b": "-Infinity"}');
    assert.deepEqual(codeAndMessage(await infinite.json()), {
      code: "invalid_argument",
      message: "b must be a finite number, got -Infinity",
    });
  });
});

describe("GET with ?encoding=json&message=...", () => {
  const get = (path: string, message: string) => fetch(`${server.baseUrl}${path}?encoding=json&message=${encodeURIComponent(message)}`);

  test("side-effect-free methods answer", async () => {
    const root = await get("/calculator.v1.CalculatorService/SquareRoot", '{"number":2}');
    assert.equal(root.status, 200);
    assert.deepEqual(await root.json(), { result: Math.SQRT2 });
    const hello = await get("/greeter.v1.GreeterService/SayHello", '{"name":"なんしー"}');
    assert.deepEqual(await hello.json(), { message: "Hello, なんしー!" });
    assert.equal(server.callLogs("/greeter.v1.GreeterService/SayHello").at(-1)?.method, "GET");
  });

  test("errors come back as JSON with the HTTP status", async () => {
    const byZero = await get("/calculator.v1.CalculatorService/Divide", '{"a":1,"b":0}');
    assert.equal(byZero.status, 400);
    assert.deepEqual(codeAndMessage(await byZero.json()), { code: "invalid_argument", message: "cannot divide by zero: b is 0" });
  });

  test("methods with side effects or streams refuse GET with 405", async () => {
    const response = await get("/greeter.v1.GreeterService/LotsOfGreetings", "{}");
    assert.equal(response.status, 405);
  });
});

test("the server enforces connect-timeout-ms itself on a Connect stream", async () => {
  const message = Buffer.from('{"name":"Ada","delayMs":300}');
  const prefix = Buffer.from([0, 0, 0, 0, message.length]);
  const started = performance.now();
  const response = await fetch(`${server.baseUrl}/greeter.v1.GreeterService/LotsOfReplies`, {
    method: "POST",
    headers: { "content-type": "application/connect+json", "connect-timeout-ms": "500" },
    body: Buffer.concat([prefix, message]),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const elapsed = performance.now() - started;
  assert.equal(response.status, 200, "a Connect stream reports errors in its last envelope");
  const envelopes: Array<{ flags: number; json: unknown }> = [];
  for (let offset = 0; offset < body.length; offset += 5 + body.readUInt32BE(offset + 1)) {
    envelopes.push({
      flags: body[offset] ?? 0,
      json: JSON.parse(body.subarray(offset + 5, offset + 5 + body.readUInt32BE(offset + 1)).toString()),
    });
  }
  assert.deepEqual(
    envelopes.slice(0, -1).map((envelope) => (envelope.json as { language: string }).language),
    ["en", "fr"],
  );
  assert.deepEqual(envelopes.at(-1), { flags: 2, json: { error: { code: "deadline_exceeded", message: "the operation timed out" } } });
  assert.ok(elapsed >= 450 && elapsed < 1_500, `answered after ${Math.round(elapsed)} ms`);
});

describe("gRPC framed by hand over node:http2", () => {
  const session = http2.connect(server.baseUrl);
  after(() => session.close());
  const grpcHeaders = (path: string, extra: http2.OutgoingHttpHeaders = {}) => ({
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...extra,
  });

  test("a unary call: one message, then grpc-status 0 in the trailers", async () => {
    const request = toBinary(SayHelloRequestSchema, create(SayHelloRequestSchema, { name: "Ada" }));
    const answer = await h2Request(session, grpcHeaders("/greeter.v1.GreeterService/SayHello"), envelope(request));
    assert.equal(answer.headers[":status"], 200);
    assert.match(String(answer.headers["content-type"]), /^application\/grpc/);
    assert.deepEqual(grpcStatus(answer), { code: 0, message: "" });
    const [message, ...rest] = envelopes(answer.body).map(({ data }) => data);
    assert.equal(rest.length, 0);
    assert.equal(fromBinary(SayHelloResponseSchema, message ?? Buffer.alloc(0)).message, "Hello, Ada!");
  });

  test("the server enforces grpc-timeout itself: DEADLINE_EXCEEDED after the greetings that fit", async () => {
    // No client-side timer here: only the server knows the deadline.
    const request = toBinary(LotsOfRepliesRequestSchema, create(LotsOfRepliesRequestSchema, { name: "Ada", delayMs: 300 }));
    const started = performance.now();
    const answer = await h2Request(
      session,
      grpcHeaders("/greeter.v1.GreeterService/LotsOfReplies", { "grpc-timeout": "500m" }),
      envelope(request),
    );
    const elapsed = performance.now() - started;
    assert.equal(grpcStatus(answer).code, 4);
    assert.deepEqual(
      envelopes(answer.body).map(({ data: bytes }) => fromBinary(LotsOfRepliesResponseSchema, bytes).language),
      ["en", "fr"],
    );
    assert.ok(elapsed >= 450 && elapsed < 1_500, `answered after ${Math.round(elapsed)} ms`);
    assert.equal(server.callLogs("/greeter.v1.GreeterService/LotsOfReplies").at(-1)?.code, "deadline_exceeded");
  });
});
