import assert from "node:assert/strict";
import * as net from "node:net";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/health/v1/health_pb.js";
import { rejection } from "../support/assert.js";
import { type StartedServer, spawnServer, startServerProcess } from "../support/process.js";

// The server as an operator runs it: its own process, stopped with signals.

const running: StartedServer[] = [];
after(() => {
  for (const server of running) server.child.kill("SIGKILL");
});

/** The server with the given environment and no more, as an operator starts it. */
async function start(env: Record<string, string> = {}): Promise<StartedServer> {
  const server = await startServerProcess(env, { inheritEnv: false });
  running.push(server);
  return server;
}

/** A bidirectional call whose client never closes its side: only the server can end it. Resolves after the first answer. */
async function openEndlessCall(greeter: ReturnType<typeof grpcGreeter>) {
  const replies = greeter
    .bidiHello(
      (async function* () {
        yield { name: "Ada" };
        await new Promise(() => {});
      })(),
    )
    [Symbol.asyncIterator]();
  const first = await replies.next();
  assert.equal(first.done ? undefined : first.value.message, "Hello, Ada!");
  return replies;
}

function grpcGreeter(baseUrl: string) {
  const sessionManager = new Http2SessionManager(baseUrl);
  after(() => sessionManager.abort());
  return createClient(GreeterService, createGrpcTransport({ baseUrl, sessionManager }));
}

/** Resolves true if a new TCP connection to `port` is refused. */
function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

describe("graceful shutdown on SIGTERM", () => {
  test("an idle server exits 0 at once", async () => {
    const server = await start();
    const started = performance.now();
    server.child.kill("SIGTERM");
    const { code } = await server.exited;
    assert.equal(code, 0);
    assert.ok(performance.now() - started < 2_000);
    assert.ok(server.logs.some((record) => record.msg === "shutdown complete"));
  });

  test("a stream the server ends at shutdown reaches its client with that status, not a cut connection", async () => {
    // The final frames (trailers, GOAWAY) used to be lost when connections
    // were cut as soon as the last call ended: several runs, as it was a race.
    for (let run = 0; run < 4; run++) {
      const server = await start({ SHUTDOWN_GRACE_MS: "10000" });
      const health = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
      const statuses: ServingStatus[] = [];
      const ended = await rejection(
        (async () => {
          for await (const { status } of health.watch({ service: "" })) {
            if (statuses.push(status) === 1) server.child.kill("SIGTERM");
          }
        })(),
      );
      assert.equal(ended.code, Code.Unavailable, `run ${run}: ${ended.message}`);
      assert.deepEqual(statuses, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
      assert.equal((await server.exited).code, 0);
    }
  });

  test("calls in flight complete, new connections are refused, then exit 0", async () => {
    const server = await start({ SHUTDOWN_GRACE_MS: "10000" });
    const overGrpc = grpcGreeter(server.baseUrl);
    const overHttp1 = createClient(GreeterService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const delayMs = 200;

    const collect = async (stream: AsyncIterable<{ language: string }>, onFirst: () => void) => {
      const languages: string[] = [];
      for await (const reply of stream) {
        if (languages.push(reply.language) === 1) onFirst();
      }
      return languages;
    };
    let firstArrivals = 0;
    let signalled!: () => void;
    const sigtermSent = new Promise<void>((resolve) => (signalled = resolve));
    const onFirst = () => {
      if (++firstArrivals === 2) {
        server.child.kill("SIGTERM");
        signalled();
      }
    };
    const inFlight = Promise.all([
      collect(overGrpc.lotsOfReplies({ name: "Ada", delayMs }), onFirst),
      collect(overHttp1.lotsOfReplies({ name: "Ada", delayMs }), onFirst),
    ]);

    await sigtermSent;
    await server.waitForLog((record) => String(record.msg).startsWith("shutting down"));
    assert.equal(await refusesConnections(server.port), true, "new connections must be refused while draining");

    const all = ["en", "fr", "es", "de", "ja", "ko", "ru"];
    assert.deepEqual(await inFlight, [all, all]);
    const { code } = await server.exited;
    assert.equal(code, 0);
    const calls = server.logs.filter((record) => record.procedure === "/greeter.v1.GreeterService/LotsOfReplies");
    assert.deepEqual(
      calls.map((record) => record.code),
      ["ok", "ok"],
    );
    assert.ok(!server.logs.some((record) => record.msg === "grace period over: ending the calls still running"));
  });

  test("a stream that would never end is ended with UNAVAILABLE after the grace period", async () => {
    const graceMs = 500;
    const server = await start({ SHUTDOWN_GRACE_MS: String(graceMs) });
    const replies = await openEndlessCall(grpcGreeter(server.baseUrl));

    const signalledAt = performance.now();
    server.child.kill("SIGTERM");
    const error = await rejection(replies.next());
    const endedAfterMs = performance.now() - signalledAt;
    assert.equal(error.code, Code.Unavailable);
    assert.equal(error.rawMessage, "server is shutting down");
    assert.ok(endedAfterMs >= graceMs * 0.9 && endedAfterMs < graceMs + 2_000, `ended after ${Math.round(endedAfterMs)} ms`);

    const { code } = await server.exited;
    assert.equal(code, 0);
    assert.equal(server.logs.find((record) => record.procedure === "/greeter.v1.GreeterService/BidiHello")?.code, "unavailable");
  });

  test("a second signal exits at once, with the signal's exit code", async () => {
    const server = await start({ SHUTDOWN_GRACE_MS: "60000" });
    const replies = await openEndlessCall(grpcGreeter(server.baseUrl));
    server.child.kill("SIGTERM");
    await server.waitForLog((record) => String(record.msg).startsWith("shutting down"));
    const signalledAt = performance.now();
    server.child.kill("SIGINT");
    const { code } = await server.exited;
    assert.equal(code, 130);
    assert.ok(performance.now() - signalledAt < 2_000);
    assert.ok(server.logs.some((record) => String(record.msg).startsWith("second signal")));
    await rejection(replies.next());
  });
});

describe("start-up", () => {
  test("logs the port it listens on as JSON", async () => {
    const server = await start();
    const ready = server.logs.find((record) => typeof record.port === "number");
    assert.ok(ready);
    assert.equal(ready.msg, `serving gRPC, gRPC-Web and Connect on http://127.0.0.1:${server.port}`);
    assert.equal((await grpcGreeter(server.baseUrl).sayHello({ name: "Ada" })).message, "Hello, Ada!");
    server.child.kill("SIGTERM");
    assert.equal((await server.exited).code, 0);
  });

  test("a bad setting: one line naming the variable on stderr, exit 1", async () => {
    const { exited, logs } = spawnServer({ PORT: "abc" }, { inheritEnv: false });
    const { code, stderr } = await exited;
    assert.equal(code, 1);
    assert.equal(stderr, 'configuration error: PORT must be a whole number from 0 to 65535, got "abc"\n');
    assert.deepEqual(logs, []);
  });

  test("a TLS file that cannot be read: a fatal log line naming it, exit 1", async () => {
    const { exited, logs } = spawnServer({ TLS_CERT: "missing-cert.pem", TLS_KEY: "missing-key.pem" }, { inheritEnv: false });
    assert.equal((await exited).code, 1);
    const fatal = logs.find((record) => record.level === 60);
    assert.equal(fatal?.msg, "could not start the server");
    assert.match(JSON.stringify(fatal?.err), /ENOENT.*missing-cert\.pem/);
  });

  test("a port already in use: a fatal log line saying so, exit 1", async () => {
    const first = await start();
    const { exited, logs } = spawnServer({ PORT: String(first.port) }, { inheritEnv: false });
    const { code } = await exited;
    assert.equal(code, 1);
    const fatal = logs.find((record) => record.level === 60);
    assert.equal(fatal?.msg, "could not start the server");
    assert.match(JSON.stringify(fatal?.err), /EADDRINUSE/);
    first.child.kill("SIGTERM");
    await first.exited;
  });
});
