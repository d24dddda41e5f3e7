import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { rejection } from "../support/assert.js";
import { envelope, grpcStatus, h2Request } from "../support/raw.js";
import { protocolCases, startTestServer } from "../support/server.js";

// Every bad request gets a clear answer with the right status, and the very
// next call on the same connection is served as if nothing happened.

const server = await startTestServer({ READ_MAX_BYTES: "1024" });
const protocols = protocolCases(server.baseUrl);
const session = http2.connect(server.baseUrl);
after(async () => {
  session.close();
  protocols.close();
  await server.shutdown();
});

const sayHello = "/greeter.v1.GreeterService/SayHello";
/** The binary protobuf of SayHelloRequest{name: "Ada"}. */
const adaRequest = Buffer.from([0x0a, 0x03, 0x41, 0x64, 0x61]);

/** A good call over HTTP/1.1 (fetch keeps the connection alive) and one over the shared HTTP/2 session. */
async function assertStillServing(): Promise<void> {
  const response = await post(sayHello, "application/json", '{"name":"Ada"}');
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { message: "Hello, Ada!" });
  const answer = await h2Request(session, grpcHeaders(sayHello), envelope(adaRequest));
  assert.equal(grpcStatus(answer).code, 0);
}

function post(path: string, contentType: string, body: string | Uint8Array): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { "content-type": contentType }, body });
}

function grpcHeaders(path: string, extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders {
  return { ":path": path, "content-type": "application/grpc", te: "trailers", ...extra };
}

describe("malformed protobuf bytes", () => {
  // A field 1 whose length runs past the end of the message. A client fault:
  // INVALID_ARGUMENT, as connect-go answers in every protocol (grpc-go says
  // INTERNAL, which would blame the server), naming the expected type.
  const truncated = Buffer.from([0x0a, 0xff, 0x01, 0x41]);
  const notProtobuf = "the request message is not valid binary protobuf for greeter.v1.SayHelloRequest";

  test("Connect binary: 400 invalid_argument, naming the message type", async () => {
    const response = await post(sayHello, "application/proto", truncated);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { code: "invalid_argument", message: notProtobuf });
    await assertStillServing();
  });

  test("gRPC: grpc-status INVALID_ARGUMENT", async () => {
    const answer = await h2Request(session, grpcHeaders(sayHello), envelope(truncated));
    assert.equal(answer.headers[":status"], 200);
    assert.deepEqual(grpcStatus(answer), { code: Code.InvalidArgument, message: notProtobuf });
    await assertStillServing();
  });

  test("gRPC: an envelope cut short is INVALID_ARGUMENT", async () => {
    const answer = await h2Request(session, grpcHeaders(sayHello), Buffer.from([0, 0, 0, 0, 9, 0x0a]));
    assert.equal(grpcStatus(answer).code, Code.InvalidArgument);
    assert.match(grpcStatus(answer).message, /^the request ends in the middle of a message/);
    await assertStillServing();
  });
});

describe("invalid JSON", () => {
  test("unparsable JSON is 400 invalid_argument", async () => {
    const response = await post(sayHello, "application/json", '{"name": "Ada"');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /^the request message is not valid JSON for greeter\.v1\.SayHelloRequest: /);
    await assertStillServing();
  });

  test("a misspelt field is 400 invalid_argument naming it, not a silent default", async () => {
    const response = await post("/calculator.v1.CalculatorService/SquareRoot", "application/json", '{"numbr": 4}');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /"numbr"/);
    await assertStillServing();
  });

  test("a value of the wrong type is 400 invalid_argument naming the field", async () => {
    const response = await post("/calculator.v1.CalculatorService/SquareRoot", "application/json", '{"number": "four"}');
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, /calculator\.v1\.SquareRootRequest: field number: /);
    await assertStillServing();
  });
});

describe("wrong content type", () => {
  test("Connect: 415 for a type no protocol speaks, including curl's default form encoding", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
      const response = await post(sayHello, contentType, '{"name":"Ada"}');
      assert.equal(response.status, 415, contentType);
    }
    await assertStillServing();
  });

  test("gRPC: 415 for an unknown codec", async () => {
    const answer = await h2Request(session, grpcHeaders(sayHello, { "content-type": "application/grpc+xml" }), envelope(adaRequest));
    assert.equal(answer.headers[":status"], 415);
    await assertStillServing();
  });
});

describe("unknown service or method", () => {
  test("Connect: 404", async () => {
    for (const path of ["/greeter.v1.GreeterService/SayGoodbye", "/greeter.v2.GreeterService/SayHello"]) {
      const response = await post(path, "application/json", "{}");
      assert.equal(response.status, 404, path);
    }
    await assertStillServing();
  });

  test("gRPC: UNIMPLEMENTED in a trailers-only answer, naming the path", async () => {
    const answer = await h2Request(session, grpcHeaders("/greeter.v1.GreeterService/SayGoodbye"), envelope(adaRequest));
    assert.equal(answer.headers[":status"], 200);
    assert.equal(answer.trailers, undefined);
    assert.deepEqual(grpcStatus(answer), { code: Code.Unimplemented, message: "no such method: /greeter.v1.GreeterService/SayGoodbye" });
    await assertStillServing();
  });

  test("every client library reports UNIMPLEMENTED", async () => {
    // A client for a service this server does not have: same messages, another name.
    const sayHelloElsewhere = { ...GreeterService.method.sayHello };
    const absent = {
      ...GreeterService,
      typeName: "greeter.v1.AbsentService",
      methods: [sayHelloElsewhere],
      method: { ...GreeterService.method, sayHello: sayHelloElsewhere },
    };
    sayHelloElsewhere.parent = absent;
    for (const { name, transport } of protocols.cases) {
      const error = await rejection(createClient(absent, transport).sayHello({ name: "Ada" }));
      assert.equal(error.code, Code.Unimplemented, name);
    }
    await assertStillServing();
  });
});

describe("oversize message (READ_MAX_BYTES=1024)", () => {
  const huge = "x".repeat(2_000);

  test("Connect: 429 resource_exhausted, saying the size and the limit", async () => {
    const response = await post(sayHello, "application/json", JSON.stringify({ name: huge }));
    assert.equal(response.status, 429);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, "resource_exhausted");
    assert.match(body.message, /larger than configured readMaxBytes 1024/);
    await assertStillServing();
  });

  test("every protocol: RESOURCE_EXHAUSTED, for unary calls and for one message in a stream", async () => {
    for (const { name, transport } of protocols.cases) {
      const greeter = createClient(GreeterService, transport);
      const unary = await rejection(greeter.sayHello({ name: huge }));
      assert.equal(unary.code, Code.ResourceExhausted, name);
    }
    const grpc = createClient(GreeterService, protocols.cases[0]?.transport ?? assert.fail());
    const streamed = await rejection(
      grpc.lotsOfGreetings(
        (async function* () {
          yield { name: "Alice" };
          yield { name: huge };
        })(),
      ),
    );
    assert.equal(streamed.code, Code.ResourceExhausted);
    await assertStillServing();
  });
});

describe("gRPC without te: trailers", () => {
  test("refused with HTTP 400 and INVALID_ARGUMENT saying what is missing", async () => {
    const headers = grpcHeaders(sayHello);
    delete headers.te;
    const answer = await h2Request(session, headers, envelope(adaRequest));
    assert.equal(answer.headers[":status"], 400);
    assert.deepEqual(grpcStatus(answer), { code: Code.InvalidArgument, message: 'gRPC requests must carry the header "te: trailers"' });
    await assertStillServing();
  });
});

test("a path that is neither an RPC nor a file of the web page gets a plain 404", async () => {
  for (const path of ["/no-such-page", "/index.htm", "/greeter.v1.GreeterService", "/favicon.ico"]) {
    const response = await fetch(`${server.baseUrl}${path}`);
    assert.equal(response.status, 404, path);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), "Not Found\n");
  }
  await assertStillServing();
});
