import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { LotsOfGreetingsRequestSchema } from "../../gen/greeter/v1/greeter_pb.js";
import { GrpcJsClient, grpcFailure, loadProtos, serviceConstructor } from "../support/grpc-js.js";
import { envelope } from "../support/raw.js";
import { startTestServer } from "../support/server.js";

// A server that answers before the client has sent its whole request (an
// over-size message, an invalid one in a stream) must still deliver the whole
// answer, trailers included, and then close the stream (RST_STREAM NO_ERROR,
// RFC 9113 §8.1) once the client stops sending, instead of waiting for ever
// for the rest of a body it will not read (see refused-calls-keep-connection
// for a client that does send the rest).

const lotsOfGreetings = "/greeter.v1.GreeterService/LotsOfGreetings";
const greeting = (name: string) => envelope(toBinary(LotsOfGreetingsRequestSchema, create(LotsOfGreetingsRequestSchema, { name })));

interface EarlyAnswer {
  readonly trailers: http2.IncomingHttpHeaders | undefined;
  /** The RST_STREAM code the stream closed with, or undefined if it stayed open. */
  readonly rstCode: number | undefined;
}

/** Sends `body` on a client-streaming call and keeps the request open; waits up to 2 s for the stream to close. */
async function answeredEarly(session: http2.ClientHttp2Session, body: Buffer): Promise<EarlyAnswer> {
  const stream = session.request({ ":method": "POST", ":path": lotsOfGreetings, "content-type": "application/grpc", te: "trailers" });
  let trailers: http2.IncomingHttpHeaders | undefined;
  stream.on("trailers", (received) => (trailers = received));
  stream.on("error", () => {}); // A stream the client still writes to may report the reset; the code below says what happened.
  stream.resume();
  stream.write(body);
  const closed = await Promise.race([
    once(stream, "close").then(() => true),
    new Promise<false>((resolve) => setTimeout(resolve, 2_000, false)),
  ]);
  if (!closed) stream.close();
  return { trailers, rstCode: closed ? stream.rstCode : undefined };
}

test("an over-size message: RESOURCE_EXHAUSTED in the trailers, then the stream is closed and no longer in flight", async () => {
  const server = await startTestServer({ READ_MAX_BYTES: "1024", SHUTDOWN_GRACE_MS: "5000" });
  const session = http2.connect(server.baseUrl);
  try {
    // Repeated: the reset must never overtake the trailers. The larger body
    // is still partly unread on the server when the answer is complete.
    for (let i = 0; i < 20; i++) {
      const { trailers, rstCode } = await answeredEarly(
        session,
        Buffer.concat([greeting("Ada"), greeting("x".repeat(i % 2 === 0 ? 2_000 : 100_000))]),
      );
      assert.equal(trailers?.["grpc-status"], String(Code.ResourceExhausted), `call ${i}: the status arrived`);
      assert.match(decodeURIComponent(String(trailers?.["grpc-message"])), /larger than configured readMaxBytes 1024/);
      assert.equal(rstCode, http2.constants.NGHTTP2_NO_ERROR, `call ${i}: the server closed the stream without an error`);
    }
    const started = performance.now();
    await server.shutdown();
    assert.ok(performance.now() - started < 2_000, "no early-answered call held the shutdown for its grace period");
  } finally {
    session.destroy();
  }
});

test("an invalid message in a stream the client has not ended: the error arrives and the stream closes", async () => {
  const server = await startTestServer();
  const session = http2.connect(server.baseUrl);
  try {
    const { trailers, rstCode } = await answeredEarly(session, greeting("Bartholomew!"));
    assert.equal(trailers?.["grpc-status"], String(Code.InvalidArgument));
    assert.equal(rstCode, http2.constants.NGHTTP2_NO_ERROR);
  } finally {
    session.destroy();
    await server.shutdown();
  }
});

test("grpc-js reads the status of an early answer, and the connection keeps serving", async () => {
  const server = await startTestServer({ READ_MAX_BYTES: "1024" });
  const greeter = new GrpcJsClient(
    serviceConstructor(loadProtos(["greeter/v1/greeter.proto"]), "greeter.v1.GreeterService"),
    `127.0.0.1:${server.port}`,
  );
  try {
    for (let i = 0; i < 10; i++) {
      const error = await grpcFailure(
        greeter.clientStream("LotsOfGreetings", [{ name: "Ada" }, { name: "x".repeat(2_000) }, { name: "Bob" }]),
      );
      assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED, `call ${i}: ${error.message}`);
      assert.match(error.details, /larger than configured readMaxBytes 1024/);
    }
    assert.deepEqual(await greeter.unary("SayHello", { name: "Ada" }), { message: "Hello, Ada!" });
  } finally {
    greeter.close();
    await server.shutdown();
  }
});
