import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { HelloService } from "../../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { rejection } from "../support/assert.js";
import { routerTransport } from "../support/router.js";

const { transport, logs } = await routerTransport();
const greeter = createClient(GreeterService, transport);

async function* names(...list: string[]) {
  for (const name of list) yield { name };
}

describe("unary", () => {
  test("SayHello and SayHelloAgain", async () => {
    assert.equal((await greeter.sayHello({ name: "Ada" })).message, "Hello, Ada!");
    assert.equal((await greeter.sayHelloAgain({ name: "なんしー" })).message, "Hello again, なんしー!");
  });

  test("a bad name is INVALID_ARGUMENT", async () => {
    const long = await rejection(greeter.sayHello({ name: "abcdefghijk" }));
    assert.equal(long.code, Code.InvalidArgument);
    assert.equal(long.rawMessage, "name cannot be more than 10 characters, got 11");
    const empty = await rejection(greeter.sayHelloAgain({}));
    assert.equal(empty.code, Code.InvalidArgument);
    assert.equal(empty.rawMessage, "name must not be empty");
  });

  test("tutorial contracts", async () => {
    assert.equal((await createClient(Greeter, transport).sayHello({ name: "Ada" })).message, "Hello, Ada!");
    assert.equal((await createClient(Greeter, transport).sayHelloAgain({ name: "Ada" })).message, "Hello again, Ada!");
    assert.equal((await createClient(HelloService, transport).sayHello({ name: "なんしー" })).message, "こんにちは, なんしー");
    const error = await rejection(createClient(HelloService, transport).sayHello({ name: "" }));
    assert.equal(error.code, Code.InvalidArgument);
  });
});

describe("LotsOfReplies", () => {
  test("one greeting per language", async () => {
    const replies = [];
    for await (const reply of greeter.lotsOfReplies({ name: "Ada" })) replies.push(reply);
    assert.ok(replies.length >= 5);
    assert.deepEqual(
      replies.map((reply) => reply.language).filter((language) => ["en", "fr", "ja", "ko", "ru"].includes(language)),
      ["en", "fr", "ja", "ko", "ru"],
    );
    assert.equal(replies[0]?.message, "Hello, Ada!");
  });

  test("a bad name or delay fails before any message", async () => {
    const received: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const reply of greeter.lotsOfReplies({ name: "Ada", delayMs: 60_000 })) received.push(reply);
      })(),
    );
    assert.equal(error.code, Code.InvalidArgument);
    assert.equal(error.rawMessage, "delay_ms cannot be more than 5000, got 60000");
    assert.deepEqual(received, []);
  });

  test("a deadline shorter than the stream ends it with DEADLINE_EXCEEDED", async () => {
    const received: unknown[] = [];
    const error = await rejection(
      (async () => {
        for await (const reply of greeter.lotsOfReplies({ name: "Ada", delayMs: 200 }, { timeoutMs: 300 })) received.push(reply);
      })(),
    );
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.ok(received.length >= 1 && received.length < 4, `received ${received.length} messages`);
  });
});

describe("LotsOfGreetings", () => {
  test("greets everyone once the client is done", async () => {
    const reply = await greeter.lotsOfGreetings(names("Alice", "Bob", "Carol"));
    assert.deepEqual({ message: reply.message, count: reply.count }, { message: "Hello, Alice, Bob, and Carol!", count: 3 });
  });

  test("no names, or one bad name, is INVALID_ARGUMENT", async () => {
    const none = await rejection(greeter.lotsOfGreetings(names()));
    assert.equal(none.code, Code.InvalidArgument);
    assert.match(none.rawMessage, /at least one name/);
    const bad = await rejection(greeter.lotsOfGreetings(names("Alice", "")));
    assert.equal(bad.code, Code.InvalidArgument);
  });

  test("more than 1000 names is INVALID_ARGUMENT", async () => {
    const many = await rejection(greeter.lotsOfGreetings(names(...Array.from({ length: 1001 }, (_, index) => `n${index}`))));
    assert.equal(many.code, Code.InvalidArgument);
    assert.match(many.rawMessage, /at most 1000 names/);
  });
});

describe("BidiHello", () => {
  test("answers each name", async () => {
    const replies = [];
    for await (const reply of greeter.bidiHello(names("Alice", "Bob"))) replies.push(reply.message);
    assert.deepEqual(replies, ["Hello, Alice!", "Hello, Bob!"]);
  });

  test("a bad name ends the stream with INVALID_ARGUMENT after the good answers", async () => {
    const replies: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const reply of greeter.bidiHello(names("Alice", "abcdefghijk", "Bob"))) replies.push(reply.message);
      })(),
    );
    assert.equal(error.code, Code.InvalidArgument);
    assert.deepEqual(replies, ["Hello, Alice!"]);
  });
});

describe("a client that goes quiet", () => {
  async function* silentAfter(...list: string[]) {
    for (const name of list) yield { name };
    await new Promise(() => {});
  }

  test("a client stream ends at its deadline even with no message coming", async () => {
    const error = await rejection(greeter.lotsOfGreetings(silentAfter("Alice"), { timeoutMs: 200 }));
    assert.equal(error.code, Code.DeadlineExceeded);
    const logged = logs.filter((record) => record.procedure === "/greeter.v1.GreeterService/LotsOfGreetings").at(-1);
    assert.equal(logged?.code, "deadline_exceeded");
    assert.ok(Number(logged?.durationMs) < 1_000);
  });

  test("a bidirectional stream ends when the client cancels while the server waits", async () => {
    const controller = new AbortController();
    const replies: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const reply of greeter.bidiHello(silentAfter("Alice"), { signal: controller.signal })) {
          replies.push(reply.message);
          setTimeout(() => controller.abort(), 50);
        }
      })(),
    );
    assert.equal(error.code, Code.Canceled);
    assert.deepEqual(replies, ["Hello, Alice!"]);
  });
});

test("each call is logged once with procedure and status", () => {
  const calls = logs.filter((record) => record.procedure === "/greeter.v1.GreeterService/BidiHello");
  assert.deepEqual(
    calls.map((record) => record.code),
    ["ok", "invalid_argument", "canceled"],
  );
});
