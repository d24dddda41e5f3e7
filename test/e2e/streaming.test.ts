import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { rejection } from "../support/assert.js";
import { protocolCases, startTestServer } from "../support/server.js";

const server = await startTestServer();
const protocols = protocolCases(server.baseUrl);
after(async () => {
  protocols.close();
  await server.shutdown();
});

const transportOf = (name: string): Transport => {
  const found = protocols.cases.find((candidate) => candidate.name === name);
  assert.ok(found, name);
  return found.transport;
};
const grpc = createClient(GreeterService, transportOf("gRPC (h2c)"));

const lotsOfReplies = "/greeter.v1.GreeterService/LotsOfReplies";
const languages = ["en", "fr", "es", "de", "ja", "ko", "ru"];

async function* names(...list: string[]) {
  for (const name of list) yield { name };
}

/** A stream of names the test feeds one at a time; `close` ends it. */
function namesOnDemand() {
  const ready: Array<string | null> = [];
  let wake: (() => void) | undefined;
  const push = (name: string | null) => {
    ready.push(name);
    wake?.();
  };
  async function* stream() {
    for (;;) {
      if (ready.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const name = ready.shift();
      if (name === null || name === undefined) return;
      yield { name };
    }
  }
  return { send: (name: string) => push(name), close: () => push(null), stream: stream() };
}

describe("all four kinds over gRPC", () => {
  test("server streaming: one greeting per language, in order", async () => {
    const replies = [];
    for await (const reply of grpc.lotsOfReplies({ name: "なんしー" })) replies.push(reply);
    assert.deepEqual(
      replies.map((reply) => reply.language),
      languages,
    );
    assert.equal(replies[0]?.message, "Hello, なんしー!");
    assert.equal(replies[1]?.message, "Bonjour, なんしー !");
    assert.equal(replies[4]?.message, "こんにちは、なんしーさん！");
    assert.equal(replies[5]?.message, "안녕하세요, なんしー님!");
    assert.equal(replies[6]?.message, "Привет, なんしー!");
  });

  test("server streaming: a bad name fails before any greeting", async () => {
    let received = 0;
    const error = await rejection(
      (async () => {
        for await (const _ of grpc.lotsOfReplies({ name: "" })) received++;
      })(),
    );
    assert.equal(error.code, Code.InvalidArgument);
    assert.equal(received, 0);
  });

  test("client streaming: greets everyone at the end", async () => {
    const reply = await grpc.lotsOfGreetings(names("Alice", "Bob", "なんしー"));
    assert.equal(reply.message, "Hello, Alice, Bob, and なんしー!");
    assert.equal(reply.count, 3);
    const error = await rejection(grpc.lotsOfGreetings(names("Alice", "Bartholomew")));
    assert.equal(error.code, Code.InvalidArgument);
    assert.match(error.rawMessage, /got 11/);
  });

  test("bidirectional: each answer arrives before the next name is sent", async () => {
    const requests = namesOnDemand();
    const replies = grpc.bidiHello(requests.stream)[Symbol.asyncIterator]();
    for (const name of ["Alice", "Bob", "なんしー"]) {
      requests.send(name);
      const reply = await replies.next();
      assert.deepEqual(reply.done ? undefined : reply.value.message, `Hello, ${name}!`);
    }
    requests.close();
    assert.equal((await replies.next()).done, true);
  });
});

describe("server streaming over every protocol", () => {
  for (const { name, protocol, transport } of protocols.cases) {
    test(name, async () => {
      const greeter = createClient(GreeterService, transport);
      const replies = [];
      for await (const reply of greeter.lotsOfReplies({ name: "Ada" })) replies.push(reply.language);
      assert.deepEqual(replies, languages);
      assert.equal(server.callLogs(lotsOfReplies).at(-1)?.protocol, protocol);
    });
  }
});

describe("greetings with a delay arrive one by one", () => {
  for (const name of ["gRPC (h2c)", "gRPC-Web (HTTP/1.1)", "Connect JSON (HTTP/1.1)", "Connect binary (HTTP/2)"]) {
    test(name, async () => {
      const greeter = createClient(GreeterService, transportOf(name));
      const delayMs = 120;
      const arrivals: number[] = [];
      const started = performance.now();
      for await (const _ of greeter.lotsOfReplies({ name: "Ada", delayMs })) arrivals.push(performance.now() - started);
      assert.equal(arrivals.length, languages.length);
      const shown = arrivals.map(Math.round).join(", ");
      const last = languages.length - 1;
      // Paced by the server: greeting i cannot arrive before i delays have passed.
      for (const [index, at] of arrivals.entries()) assert.ok(at >= index * delayMs - 15, `arrivals at ${shown} ms`);
      // Not buffered: the first greeting arrives long before the last one is even produced,
      // and the arrivals spread over most of the stream's length.
      assert.ok((arrivals[0] ?? Infinity) < last * delayMs * 0.5, `arrivals at ${shown} ms`);
      assert.ok((arrivals[last] ?? 0) - (arrivals[0] ?? 0) >= last * delayMs * 0.7, `arrivals at ${shown} ms`);
    });
  }
});

describe("a client that stops listening stops the server's work", () => {
  for (const name of ["gRPC (h2c)", "Connect JSON (HTTP/1.1)", "gRPC-Web (HTTP/1.1)"]) {
    test(`cancel over ${name}`, async () => {
      const before = server.callLogs(lotsOfReplies).length;
      const greeter = createClient(GreeterService, transportOf(name));
      const delayMs = 300;
      const controller = new AbortController();
      let received = 0;
      const error = await rejection(
        (async () => {
          for await (const _ of greeter.lotsOfReplies({ name: "Ada", delayMs }, { signal: controller.signal })) {
            if (++received === 2) controller.abort();
          }
        })(),
      );
      assert.equal(error.code, Code.Canceled);
      assert.equal(received, 2);

      const logged = await server.waitForCallLog(lotsOfReplies, before + 1);
      assert.equal(logged.code, "canceled");
      // The full stream takes 6 × 300 ms; the server stopped right after the second greeting.
      assert.ok(Number(logged.durationMs) < 3 * delayMs, `server ran ${String(logged.durationMs)} ms`);
    });
  }
});

describe("a deadline shorter than the stream", () => {
  for (const name of ["gRPC (h2c)", "Connect JSON (HTTP/1.1)"]) {
    test(`ends it with DEADLINE_EXCEEDED over ${name}, and the server stops`, async () => {
      const before = server.callLogs(lotsOfReplies).length;
      const greeter = createClient(GreeterService, transportOf(name));
      let received = 0;
      const error = await rejection(
        (async () => {
          for await (const _ of greeter.lotsOfReplies({ name: "Ada", delayMs: 250 }, { timeoutMs: 600 })) received++;
        })(),
      );
      assert.equal(error.code, Code.DeadlineExceeded);
      assert.ok(received >= 2 && received <= 3, `received ${received}`);

      // The client gives up at its deadline, usually just before the server's
      // own copy of it passes, so the server records whichever came first.
      const logged = await server.waitForCallLog(lotsOfReplies, before + 1);
      assert.ok(["deadline_exceeded", "canceled"].includes(String(logged.code)), String(logged.code));
      assert.ok(Number(logged.durationMs) < 1_000, `server ran ${String(logged.durationMs)} ms of a 1500 ms stream`);
    });
  }
});

test("client and bidirectional streaming over Connect on HTTP/2", async () => {
  const greeter = createClient(GreeterService, transportOf("Connect binary (HTTP/2)"));
  assert.equal((await greeter.lotsOfGreetings(names("Alice", "Bob"))).message, "Hello, Alice and Bob!");
  const replies = [];
  for await (const reply of greeter.bidiHello(names("Alice", "Bob"))) replies.push(reply.message);
  assert.deepEqual(replies, ["Hello, Alice!", "Hello, Bob!"]);
});
