import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  GreeterService,
  LotsOfGreetingsRequestSchema,
  LotsOfRepliesRequestSchema,
  SayHelloRequestSchema,
  SayHelloResponseSchema,
} from "../../gen/greeter/v1/greeter_pb.js";
import { GrpcJsClient, grpcFailure, loadProtos, serviceConstructor } from "../support/grpc-js.js";
import { envelope, envelopes } from "../support/raw.js";
import { startTestServer, type TestServer } from "../support/server.js";

// A call the server refuses before reading all of it (a message over
// READ_MAX_BYTES, 4 MiB by default) must cost the client that call only: the
// next calls on the same connection are served. Node's HTTP/2 client (under
// connect-node's transports and undici; grpc-js lifts the cap) counts the
// unsent part of an upload the server resets against its session memory for
// good, so a few of those made it refuse every later answer with
// RST_STREAM(ENHANCE_YOUR_CALM) until it reconnected; the server now reads
// the rest of such a request instead.

const greeter = "/greeter.v1.GreeterService";
const overLimit = "x".repeat(5 * 1024 * 1024);
const grpcHeaders = { "content-type": "application/grpc", te: "trailers" };

interface Outcome {
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders | undefined;
  readonly body: Buffer;
  readonly rstCode: number | undefined;
}

/** One request on `session`, its whole body written and ended, as the client sees it come back. */
function call(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders, body: Uint8Array): Promise<Outcome> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (received) => (responseHeaders = received));
    stream.on("trailers", (received) => (trailers = received));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => {}); // the outcome below says what happened
    stream.on("close", () => resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode }));
    stream.end(body);
  });
}

const grpcStatusOf = (outcome: Outcome) => (outcome.trailers ?? outcome.headers)["grpc-status"];

async function sayHello(session: http2.ClientHttp2Session, name: string): Promise<Outcome> {
  return call(
    session,
    `${greeter}/SayHello`,
    grpcHeaders,
    envelope(toBinary(SayHelloRequestSchema, create(SayHelloRequestSchema, { name }))),
  );
}

for (const fastPath of ["on", "off"] as const) {
  describe(`FAST_PATH=${fastPath}: refused calls keep the connection usable`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ FAST_PATH: fastPath });
    });
    after(() => server.shutdown());

    test("HTTP/2: over-limit client stream, unary and Connect server stream, then normal calls on the same connection", async () => {
      const session = http2.connect(server.baseUrl);
      try {
        for (let i = 0; i < 3; i++) {
          const body = envelope(toBinary(LotsOfGreetingsRequestSchema, create(LotsOfGreetingsRequestSchema, { name: overLimit })));
          const outcome = await call(session, `${greeter}/LotsOfGreetings`, grpcHeaders, body);
          assert.equal(grpcStatusOf(outcome), String(Code.ResourceExhausted), `LotsOfGreetings ${i}: ${JSON.stringify(outcome.headers)}`);
          assert.equal(outcome.rstCode, http2.constants.NGHTTP2_NO_ERROR, `LotsOfGreetings ${i}`);
        }

        const unary = await call(
          session,
          `${greeter}/SayHello`,
          grpcHeaders,
          envelope(toBinary(SayHelloRequestSchema, create(SayHelloRequestSchema, { name: overLimit }))),
        );
        assert.equal(grpcStatusOf(unary), String(Code.ResourceExhausted), "unary over the limit");

        const stream = await call(
          session,
          `${greeter}/LotsOfReplies`,
          { "content-type": "application/connect+proto" },
          envelope(toBinary(LotsOfRepliesRequestSchema, create(LotsOfRepliesRequestSchema, { name: overLimit }))),
        );
        const end = envelopes(stream.body).at(-1);
        assert.equal(end?.flags, 2, "the Connect stream ends with its end-stream message");
        assert.match(end?.data.toString("utf8") ?? "", /"code":"resource_exhausted"/);

        for (let i = 0; i < 3; i++) {
          const hello = await sayHello(session, "Ada");
          assert.equal(grpcStatusOf(hello), "0", `SayHello ${i} after the refusals: rst ${hello.rstCode}`);
          const [reply] = envelopes(hello.body);
          assert.equal(reply && fromBinary(SayHelloResponseSchema, reply.data).message, "Hello, Ada!");
        }
        assert.equal(session.destroyed, false);
      } finally {
        session.destroy();
      }
    });

    test("connect-node's gRPC client: one HTTP/2 session keeps serving after over-limit client streams", async () => {
      const sessionManager = new Http2SessionManager(server.baseUrl);
      const client = createClient(GreeterService, createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }));
      try {
        for (let i = 0; i < 3; i++) {
          const error = await client
            .lotsOfGreetings(
              (async function* () {
                yield { name: "Ada" };
                yield { name: overLimit };
              })(),
            )
            .then(
              () => undefined,
              (reason: unknown) => ConnectError.from(reason),
            );
          assert.equal(error?.code, Code.ResourceExhausted, `call ${i}: ${error?.message}`);
        }
        for (let i = 0; i < 3; i++) assert.equal((await client.sayHello({ name: "Ada" })).message, "Hello, Ada!", `SayHello ${i}`);
      } finally {
        sessionManager.abort();
      }
    });

    // grpc-js lifts its session's memory cap (grpc-node.max_session_memory), so
    // it never hit this; it must keep working all the same.
    test("grpc-js: a channel keeps serving after over-limit client streams", async () => {
      const client = new GrpcJsClient(
        serviceConstructor(loadProtos(["greeter/v1/greeter.proto"]), "greeter.v1.GreeterService"),
        `127.0.0.1:${server.port}`,
      );
      try {
        for (let i = 0; i < 3; i++) {
          const error = await grpcFailure(client.clientStream("LotsOfGreetings", [{ name: "Ada" }, { name: overLimit }]));
          assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED, `call ${i}: ${error.message}`);
        }
        for (let i = 0; i < 3; i++) assert.deepEqual(await client.unary("SayHello", { name: "Ada" }), { message: "Hello, Ada!" });
      } finally {
        client.close();
      }
    });

    for (const framing of ["Content-Length", "chunked"] as const)
      test(`HTTP/1.1 keep-alive: an over-limit Connect unary (${framing}), then a normal call on the same socket`, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const post = (body: string) =>
          new Promise<{ status: number; body: string; localPort: number }>((resolve, reject) => {
            const req = http.request(
              `${server.baseUrl}${greeter}/SayHello`,
              { method: "POST", agent, headers: { "content-type": "application/json" } },
              (res) => {
                const localPort = (res.socket.address() as AddressInfo).port;
                const chunks: Buffer[] = [];
                res.on("data", (chunk: Buffer) => chunks.push(chunk));
                res.on("end", () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    body: Buffer.concat(chunks).toString("utf8"),
                    localPort,
                  }),
                );
              },
            );
            req.on("error", reject);
            // Written in two parts, the body goes chunked: its size is known only once it has been read.
            if (framing === "chunked") req.write(body.slice(0, 1024));
            req.end(framing === "chunked" ? body.slice(1024) : body);
          });
        try {
          const refused = await post(JSON.stringify({ name: overLimit }));
          assert.match(refused.body, /"code":"resource_exhausted"/);
          const served = await post(JSON.stringify({ name: "Ada" }));
          assert.equal(served.status, 200);
          assert.deepEqual(JSON.parse(served.body), { message: "Hello, Ada!" });
          assert.equal(served.localPort, refused.localPort, "the second call reused the connection");
        } finally {
          agent.destroy();
        }
      });
  });
}
