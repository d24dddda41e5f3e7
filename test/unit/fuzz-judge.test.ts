import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Case } from "../../scripts/fuzz/case.js";
import { judge } from "../../scripts/fuzz/judge/index.js";
import type { Answer, Headers } from "../../scripts/fuzz/outcome.js";
import { firstError } from "../../scripts/fuzz/runner.js";
import { envelope } from "../../scripts/fuzz/wire.js";
import { procedures } from "../../scripts/lib/catalog.js";

// How the fuzzer judges answers, on answers written by hand: each rule must
// pass what a healthy server says and catch what a broken one says.

const sayHello = procedures.find((p) => p.path === "/greeter.v1.GreeterService/SayHello");
assert.ok(sayHello);

function rpcCase(wire: Case["wire"], overrides: Partial<Case> = {}): Case {
  return {
    id: "1:1",
    family: "message",
    wire,
    procedure: sayHello,
    deadlineSent: false,
    mutations: ["1 bit flip(s)"],
    request: { kind: "http", http: "2", method: "POST", path: "/greeter.v1.GreeterService/SayHello", headers: [], body: Buffer.alloc(0) },
    ...overrides,
  };
}

function answer(status: number, headers: Headers, body: Buffer | string = "", trailers?: Headers): Answer {
  return { kind: "answer", status, headers, trailers, body: Buffer.from(body), ms: 1, cutByClient: false };
}

const problems = (c: Case, a: Answer) => judge(c, a, 5_000).problems;

describe("gRPC", () => {
  test("a status in the trailers or trailers-only headers is an answer; server faults are not", () => {
    const grpc = { "content-type": "application/grpc" };
    assert.deepEqual(problems(rpcCase("grpc"), answer(200, { ...grpc, "grpc-status": "3", "grpc-message": "bad" })), []);
    assert.deepEqual(problems(rpcCase("grpc"), answer(200, grpc, envelope(Buffer.from([0x0a, 0x01, 0x41])), { "grpc-status": "0" })), []);
    assert.match(
      problems(rpcCase("grpc"), answer(200, { ...grpc, "grpc-status": "13", "grpc-message": "parse binary" })).join(),
      /internal/,
    );
    assert.match(problems(rpcCase("grpc"), answer(200, grpc, "")).join(), /no grpc-status/);
    assert.match(
      problems(rpcCase("grpc"), answer(200, grpc, envelope(Buffer.from([0xff])), { "grpc-status": "0" })).join(),
      /does not decode/,
    );
  });

  test("DEADLINE_EXCEEDED only when the client sent a deadline", () => {
    const headers = { "content-type": "application/grpc", "grpc-status": "4" };
    assert.match(problems(rpcCase("grpc"), answer(200, headers)).join(), /without a deadline/);
    assert.deepEqual(problems(rpcCase("grpc", { deadlineSent: true }), answer(200, headers)), []);
  });
});

describe("gRPC-Web", () => {
  test("the status comes in a trailer frame", () => {
    const headers = { "content-type": "application/grpc-web+proto" };
    const trailer = envelope(Buffer.from("grpc-status: 3\r\ngrpc-message: bad\r\n"), 0x80);
    assert.deepEqual(problems(rpcCase("grpc-web"), answer(200, headers, trailer)), []);
    assert.match(problems(rpcCase("grpc-web"), answer(200, headers, envelope(Buffer.alloc(0)))).join(), /no trailer frame/);
    const internal = envelope(Buffer.from("grpc-status: 2\r\n"), 0x80);
    assert.match(problems(rpcCase("grpc-web"), answer(200, headers, internal)).join(), /unknown/);
  });
});

describe("Connect", () => {
  test("unary errors are JSON with a code that matches the HTTP status", () => {
    const json = { "content-type": "application/json" };
    assert.deepEqual(problems(rpcCase("connect"), answer(400, json, '{"code":"invalid_argument","message":"x"}')), []);
    assert.match(problems(rpcCase("connect"), answer(500, json, '{"code":"internal","message":"parse binary"}')).join(), /internal/);
    assert.match(problems(rpcCase("connect"), answer(404, json, '{"code":"invalid_argument"}')).join(), /says 400/);
    assert.match(problems(rpcCase("connect"), answer(400, json, "not json")).join(), /not JSON/);
  });

  test("a 504 for a deadline the client set is its protocol's answer", () => {
    const body = '{"code":"deadline_exceeded","message":"the operation timed out"}';
    assert.deepEqual(problems(rpcCase("connect", { deadlineSent: true }), answer(504, { "content-type": "application/json" }, body)), []);
  });

  test("streams end with an end-stream envelope", () => {
    const headers = { "content-type": "application/connect+json" };
    const end = envelope(Buffer.from('{"error":{"code":"invalid_argument","message":"x"}}'), 2);
    assert.deepEqual(problems(rpcCase("connect"), answer(200, headers, end)), []);
    assert.match(problems(rpcCase("connect"), answer(200, headers, envelope(Buffer.from("{}")))).join(), /no end-stream/);
  });

  test("plain 4xx answers are fine for bad requests, 5xx never, and valid calls need their protocol", () => {
    assert.deepEqual(problems(rpcCase("connect"), answer(415, {})), []);
    assert.match(problems(rpcCase("connect"), answer(503, {})).join(), /server error/);
    assert.match(problems(rpcCase("connect", { mutations: [] }), answer(415, {})).join(), /valid connect call/);
  });
});

describe("liveness", () => {
  test("a hang is a failure; a dropped connection only for a valid request", () => {
    assert.match(
      judge(rpcCase("grpc"), { kind: "hang", ms: 5_000, partial: "no response headers" }, 5_000).problems.join(),
      /within 5000 ms/,
    );
    assert.deepEqual(judge(rpcCase("grpc"), { kind: "closed", error: "reset", ms: 1 }, 5_000).problems, []);
    assert.equal(judge(rpcCase("grpc", { mutations: [] }), { kind: "closed", error: "reset", ms: 1 }, 5_000).problems.length, 1);
  });

  test("the fatal error of a crashed process is the one Node printed last", () => {
    const stderr = [
      "handler for rpc SayHello failed URIError: URI malformed",
      "node:internal/http2/core:3068",
      "      throw new ERR_HTTP2_INVALID_STREAM();",
      "",
      "Error [ERR_HTTP2_INVALID_STREAM]: The stream has been destroyed",
      "    at ServerHttp2Stream.respond (node:internal/http2/core:3068:13) {",
      "  code: 'ERR_HTTP2_INVALID_STREAM'",
      "}",
      "Node.js v24.22.3",
    ].join("\n");
    assert.equal(firstError(stderr), "Error [ERR_HTTP2_INVALID_STREAM]: The stream has been destroyed (code: 'ERR_HTTP2_INVALID_STREAM')");
  });
});

describe("REST", () => {
  const restCase = (overrides: Partial<Case> = {}): Case =>
    rpcCase("rest", {
      family: "rest",
      request: { kind: "http", http: "1.1", method: "GET", path: "/v1/movies", headers: [], body: Buffer.alloc(0) },
      ...overrides,
    });
  const json = { "content-type": "application/json" };

  test("a google.rpc.Status with a client's code is an answer; a server fault, a string code or no JSON is not", () => {
    assert.deepEqual(problems(restCase(), answer(400, json, '{"code":3,"message":"bad"}')), []);
    assert.deepEqual(problems(restCase(), answer(405, json, '{"code":12,"message":"no"}')), []);
    assert.match(problems(restCase(), answer(500, json, '{"code":13,"message":"internal error"}')).join(), /server error/);
    assert.match(problems(restCase(), answer(400, json, "{")).join(), /does not parse/);
    assert.match(problems(restCase(), answer(404, json, '{"code":"not_found","message":"x"}')).join(), /Connect-shaped/);
    assert.match(problems(restCase(), answer(400, json, '{"code":3,"message":"x","details":[{"a":1}]}')).join(), /without @type/);
  });

  test("streams: every element, line or event parses; a failure at the end must be a client's", () => {
    assert.deepEqual(problems(restCase(), answer(200, json, '[{"id":"a"},{"error":{"code":3,"message":"x"}}]')), []);
    assert.match(problems(restCase(), answer(200, json, '[{"id":"a"},{"error":{"code":13,"message":"x"}}]')).join(), /server fault/);
    assert.deepEqual(problems(restCase(), answer(200, { "content-type": "application/x-ndjson" }, '{"a":1}\n{"b":2}\n')), []);
    assert.match(problems(restCase(), answer(200, { "content-type": "application/x-ndjson" }, '{"a":1}\n{"b"\n')).join(), /does not parse/);
    const events = { "content-type": "text/event-stream" };
    assert.deepEqual(problems(restCase(), answer(200, events, 'data: {"a":1}\n\nevent: end\ndata: {}\n\n')), []);
    assert.match(
      problems(restCase(), answer(200, events, 'event: error\ndata: {"code":4,"message":"late"}\n\n')).join(),
      /without a deadline/,
    );
  });

  test("a request nothing was done to is never refused for its route", () => {
    const valid = restCase({ mutations: [] });
    assert.deepEqual(problems(valid, answer(404, json, '{"code":5,"message":"no movie has id x"}')), []);
    assert.match(problems(valid, answer(404, json, '{"code":5,"message":"no REST route matches /v1/movies"}')).join(), /valid request/);
    assert.match(problems(valid, answer(415, json, '{"code":3,"message":"takes a JSON body"}')).join(), /valid request/);
  });
});
