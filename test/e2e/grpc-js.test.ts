import assert from "node:assert/strict";
import { once } from "node:events";
import { after, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { GrpcJsClient, grpcFailure, loadProtos, type Message, serviceConstructor } from "../support/grpc-js.js";
import { startTestServer } from "../support/server.js";

// An independent gRPC stack: @grpc/grpc-js speaking HTTP/2 it implements
// itself, with message code built at run time from proto/ by proto-loader.

const server = await startTestServer();
const address = `127.0.0.1:${server.port}`;
const protos = loadProtos([
  "greeter/v1/greeter.proto",
  "calculator/v1/calculator.proto",
  "tutorial/calculator/calculator.proto",
  "tutorial/helloworld/helloworld.proto",
  "tutorial/hello/hello.proto",
]);
const clients: GrpcJsClient[] = [];
const connect = (typeName: string) => {
  const client = new GrpcJsClient(serviceConstructor(protos, typeName), address);
  clients.push(client);
  return client;
};
after(async () => {
  for (const client of clients) client.close();
  await server.shutdown();
});

const greeter = connect("greeter.v1.GreeterService");
const calculator = connect("calculator.v1.CalculatorService");

async function collect(stream: AsyncIterable<unknown>): Promise<Message[]> {
  const messages: Message[] = [];
  for await (const message of stream) messages.push(message as Message);
  return messages;
}

describe("canonical services", () => {
  test("Greeter unary calls", async () => {
    assert.deepEqual(await greeter.unary("SayHello", { name: "Ada" }), { message: "Hello, Ada!" });
    assert.deepEqual(await greeter.unary("SayHelloAgain", { name: "なんしー" }), { message: "Hello again, なんしー!" });
  });

  test("a bad name is INVALID_ARGUMENT with the domain's message", async () => {
    const error = await grpcFailure(greeter.unary("SayHello", { name: "Bartholomew" }));
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(error.details, "name cannot be more than 10 characters, got 11");
    const empty = await grpcFailure(greeter.unary("SayHello", {}));
    assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(empty.details, "name must not be empty");
  });

  test("Calculator values and errors", async () => {
    assert.deepEqual(await calculator.unary("SquareRoot", { number: 2 }), { result: Math.SQRT2 });
    assert.deepEqual(await calculator.unary("Divide", { a: 1, b: 4 }), { result: 0.25 });
    const byZero = await grpcFailure(calculator.unary("Divide", { a: 1, b: 0 }));
    assert.equal(byZero.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(byZero.details, "cannot divide by zero: b is 0");
    const overflow = await grpcFailure(calculator.unary("Multiply", { a: 1e308, b: 1e308 }));
    assert.equal(overflow.code, grpc.status.OUT_OF_RANGE);
  });

  test("metadata: custom and binary request headers are accepted; the status arrives in trailers", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-request-id", "test-42");
    metadata.set("trace-bin", Buffer.from([0, 1, 2, 255]));
    let initial: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    const reply = await new Promise<Message>((resolve, reject) => {
      const method = serviceConstructor(protos, "greeter.v1.GreeterService").service.SayHello;
      assert.ok(method);
      const call = greeter.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        { name: "Ada" },
        metadata,
        {},
        (error, response) => (error ? reject(error) : resolve(response as Message)),
      );
      call.on("metadata", (received) => (initial = received));
      call.on("status", (received) => (status = received));
    });
    assert.deepEqual(reply, { message: "Hello, Ada!" });
    assert.match(String(initial?.get("content-type")[0]), /^application\/grpc/);
    assert.equal(initial?.get("x-request-id")[0], "test-42", "the caller's request id comes back");
    assert.equal(status?.code, grpc.status.OK);
    const logged = server.callLogs("/greeter.v1.GreeterService/SayHello").find((record) => record.requestId === "test-42");
    assert.ok(logged, "the call log quotes the request id, so a reported id leads to its log line");
  });

  test("an unknown method is UNIMPLEMENTED", async () => {
    const error = await grpcFailure(
      new Promise((resolve, reject) => {
        greeter.client.makeUnaryRequest(
          "/greeter.v1.GreeterService/SayGoodbye",
          (value: Buffer) => value,
          (value: Buffer) => value,
          Buffer.alloc(0),
          (failure, response) => (failure ? reject(failure) : resolve(response)),
        );
      }),
    );
    assert.equal(error.code, grpc.status.UNIMPLEMENTED);
    assert.match(error.details, /no such method/);
  });
});

describe("the tutorials' contracts", () => {
  test("Calculator at /Calculator/SquareRoot", async () => {
    const tutorial = connect("Calculator");
    assert.deepEqual(await tutorial.unary("SquareRoot", { value: 16 }), { value: 4 });
    const negative = await grpcFailure(tutorial.unary("SquareRoot", { value: -1 }));
    assert.equal(negative.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(negative.details, "cannot take the square root of a negative number: value is -1");
  });

  test("helloworld.Greeter", async () => {
    const helloworld = connect("helloworld.Greeter");
    assert.deepEqual(await helloworld.unary("SayHello", { name: "Ada" }), { message: "Hello, Ada!" });
    assert.deepEqual(await helloworld.unary("SayHelloAgain", { name: "Ada" }), { message: "Hello again, Ada!" });
    assert.equal((await grpcFailure(helloworld.unary("SayHello", { name: "" }))).code, grpc.status.INVALID_ARGUMENT);
  });

  test("hello.HelloService", async () => {
    const hello = connect("hello.HelloService");
    assert.deepEqual(await hello.unary("SayHello", { name: "なんしー" }), { message: "こんにちは, なんしー" });
    assert.equal((await grpcFailure(hello.unary("SayHello", { name: "なんしー".repeat(3) }))).code, grpc.status.INVALID_ARGUMENT);
  });
});

describe("streaming kinds", () => {
  test("server streaming", async () => {
    const replies = await collect(greeter.serverStream("LotsOfReplies", { name: "Ada" }));
    assert.deepEqual(
      replies.map((reply) => reply.language),
      ["en", "fr", "es", "de", "ja", "ko", "ru"],
    );
    assert.equal(replies[1]?.message, "Bonjour, Ada !");
  });

  test("client streaming", async () => {
    const reply = await greeter.clientStream("LotsOfGreetings", [{ name: "Alice" }, { name: "Bob" }, { name: "Carol" }]);
    assert.deepEqual(reply, { message: "Hello, Alice, Bob, and Carol!", count: 3 });
    const error = await grpcFailure(greeter.clientStream("LotsOfGreetings", []));
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
  });

  test("bidirectional: one answer per name, as each arrives", async () => {
    const call = greeter.bidiStream("BidiHello");
    const answers: string[] = [];
    for (const name of ["Alice", "Bob"]) {
      call.write({ name });
      const [reply] = (await once(call, "data")) as [Message];
      answers.push(String(reply.message));
    }
    call.end();
    await once(call, "end");
    assert.deepEqual(answers, ["Hello, Alice!", "Hello, Bob!"]);
  });

  test("cancel mid-stream: CANCELLED here, and the server stops", async () => {
    const before = server.callLogs("/greeter.v1.GreeterService/LotsOfReplies").length;
    const call = greeter.serverStream("LotsOfReplies", { name: "Ada", delayMs: 300 });
    const replies: Message[] = [];
    const error = await grpcFailure(
      (async () => {
        for await (const reply of call) {
          replies.push(reply as Message);
          if (replies.length === 2) call.cancel();
        }
      })(),
    );
    assert.equal(error.code, grpc.status.CANCELLED);
    const logged = await server.waitForCallLog("/greeter.v1.GreeterService/LotsOfReplies", before + 1);
    assert.equal(logged.code, "canceled");
    assert.ok(Number(logged.durationMs) < 900, `server ran ${String(logged.durationMs)} ms`);
  });

  test("a deadline shorter than the stream: DEADLINE_EXCEEDED", async () => {
    const call = greeter.serverStream("LotsOfReplies", { name: "Ada", delayMs: 300 }, { deadline: Date.now() + 500 });
    const replies: Message[] = [];
    const error = await grpcFailure(
      (async () => {
        for await (const reply of call) replies.push(reply as Message);
      })(),
    );
    assert.equal(error.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(replies.length, 2);
  });
});
