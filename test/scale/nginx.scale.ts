import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { OrderChangeType, OrderService } from "../../gen/order/v1/order_pb.js";
import { postgresSkipReason } from "../support/database.js";
import { type Nginx, nginxSkipReason, startNginx } from "../support/nginx.js";
import { type Replica, type ReplicaSet, startReplicas } from "../support/replicas.js";
import { type RetryStats, retryInterceptor } from "../support/retry.js";
import { type ScaleLoad, startScaleLoad } from "../support/scale-load.js";
import { describeUnless } from "../support/skip.js";

async function* names(...list: string[]) {
  for (const name of list) yield { name };
}

describeUnless(nginxSkipReason ?? postgresSkipReason, "two replicas on one PostgreSQL behind nginx", () => {
  let set: ReplicaSet;
  let nginx: Nginx;
  before(async () => {
    // nginx runs on 127.0.0.1; the tests' clients that play "the internet" connect from 127.0.0.2.
    set = await startReplicas(2, { SHUTDOWN_GRACE_MS: "2000", TRUST_PROXY: "127.0.0.1" });
    nginx = await startNginx(set.replicas.map((replica) => replica.port));
  });
  after(async () => {
    await nginx?.stop();
    await set?.stop();
  });

  const transports = (): Array<{ name: string; protocol: string; transport: Transport }> => [
    { name: "gRPC (h2c to nginx, grpc_pass)", protocol: "grpc", transport: createGrpcTransport({ baseUrl: nginx.h2cUrl }) },
    {
      name: "gRPC-Web (HTTP/1.1)",
      protocol: "grpc-web",
      transport: createGrpcWebTransport({ baseUrl: nginx.http1Url, httpVersion: "1.1" }),
    },
    {
      name: "Connect JSON (HTTP/1.1)",
      protocol: "connect",
      transport: createConnectTransport({ baseUrl: nginx.http1Url, httpVersion: "1.1" }),
    },
    {
      name: "Connect binary (HTTP/2 to nginx)",
      protocol: "connect",
      transport: createConnectTransport({ baseUrl: nginx.h2cUrl, httpVersion: "2", useBinaryFormat: true }),
    },
    {
      name: "Connect GET (HTTP/1.1)",
      protocol: "connect",
      transport: createConnectTransport({ baseUrl: nginx.http1Url, httpVersion: "1.1", useHttpGet: true }),
    },
  ];

  test("every protocol: unary calls reach both replicas, server streaming arrives whole", async () => {
    for (const { name, protocol, transport } of transports()) {
      const calculator = createClient(CalculatorService, transport);
      const greeter = createClient(GreeterService, transport);
      const before = set.replicas.map((replica) => replica.process.logs.length);
      // Round robin: four calls land on both replicas.
      for (let index = 0; index < 4; index++) {
        assert.equal((await calculator.add({ a: index, b: 2 })).result, index + 2, name);
      }
      const servedNow = () =>
        set.replicas.map((replica, index) =>
          replica.process.logs
            .slice(before[index])
            .filter((record) => record.procedure === "/calculator.v1.CalculatorService/Add" && record.protocol === protocol),
        );
      // The calls' log lines may reach the test just after their answers do.
      for (const deadline = Date.now() + 5_000; servedNow().flat().length < 4 && Date.now() < deadline; ) await sleep(20);
      const served = servedNow();
      assert.ok(
        served.every((calls) => calls.length > 0),
        `${name}: calls per replica ${served.map((calls) => calls.length)}`,
      );
      const replies = [];
      for await (const reply of greeter.lotsOfReplies({ name: "Ada" })) replies.push(reply.language);
      assert.deepEqual(replies, ["en", "fr", "es", "de", "ja", "ko", "ru"], name);
    }
  });

  test("client streaming and bidi over HTTP/2: gRPC through grpc_pass, Connect through proxy_pass", async () => {
    for (const transport of [
      createGrpcTransport({ baseUrl: nginx.h2cUrl }),
      createConnectTransport({ baseUrl: nginx.h2cUrl, httpVersion: "2" }),
    ]) {
      const greeter = createClient(GreeterService, transport);
      const reply = await greeter.lotsOfGreetings(names("Alice", "Bob", "Carol"));
      assert.equal(reply.count, 3);
    }
    const greeter = createClient(GreeterService, createGrpcTransport({ baseUrl: nginx.h2cUrl }));
    const replies = [];
    for await (const reply of greeter.bidiHello(names("Alice", "Bob"))) replies.push(reply.message);
    assert.deepEqual(replies, ["Hello, Alice!", "Hello, Bob!"]);
  });

  test("GET answers carry an ETag through nginx, and If-None-Match gets 304 Not Modified", async () => {
    const url = `${nginx.http1Url}/calculator.v1.CalculatorService/SquareRoot?encoding=json&message=${encodeURIComponent('{"number":9}')}`;
    const first = await fetch(url);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { result: 3 });
    const etag = first.headers.get("etag");
    assert.ok(etag, "an ETag");
    assert.ok(first.headers.get("cache-control"), "a Cache-Control header");
    // Twice: both replicas compute the same ETag.
    for (let index = 0; index < 2; index++) {
      const again = await fetch(url, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get("etag"), etag);
    }
  });

  test("TRUST_PROXY: the replicas log the address nginx saw, not the one a client claims", async () => {
    const requestId = `xff-${Date.now()}`;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const url = new URL(`${nginx.http1Url}/calculator.v1.CalculatorService/Add`);
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          localAddress: "127.0.0.2",
          headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.66", "x-request-id": requestId },
        },
        (response) => {
          response.resume();
          response.once("end", () => resolve(response.statusCode));
        },
      );
      request.once("error", reject);
      request.end(JSON.stringify({ a: 1, b: 2 }));
    });
    assert.equal(status, 200);
    // The call's log line may reach the test just after its answer does.
    await Promise.any(set.replicas.map((replica) => replica.process.waitForLog((record) => record.requestId === requestId)));
    const logged = set.replicas.flatMap((replica) => replica.process.logs.filter((record) => record.requestId === requestId));
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.client, "127.0.0.2");
  });

  test("probes through nginx", async () => {
    const ready = await fetch(`${nginx.http1Url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), "ready\n");
  });

  test("a watcher connected through nginx sees creates, updates and deletes made directly on either replica", async () => {
    const watcher = createClient(OrderService, createGrpcTransport({ baseUrl: nginx.h2cUrl }));
    const direct = set.replicas.map((replica) => createClient(OrderService, createGrpcTransport({ baseUrl: replica.baseUrl })));
    const [onA, onB] = direct as [(typeof direct)[0], (typeof direct)[0]];
    const watching = new AbortController();
    const changes = watcher.watchOrders({}, { signal: watching.signal })[Symbol.asyncIterator]();
    try {
      assert.equal((await changes.next()).value?.started, true);
      for (const [maker, other] of [
        [onA, onB],
        [onB, onA],
      ] as const) {
        const created = (await maker.createOrder({ name: "Across replicas" })).order;
        assert.ok(created);
        const seenCreate = (await changes.next()).value;
        assert.equal(seenCreate?.type, OrderChangeType.CREATED);
        assert.deepEqual(seenCreate?.order, created);
        const updated = (await other.updateOrder({ id: created.id, completed: true, etag: created.etag })).order;
        const seenUpdate = (await changes.next()).value;
        assert.equal(seenUpdate?.type, OrderChangeType.UPDATED);
        assert.deepEqual(seenUpdate?.order, updated);
        await maker.deleteOrder({ id: created.id });
        const seenDelete = (await changes.next()).value;
        assert.equal(seenDelete?.type, OrderChangeType.DELETED);
        assert.equal(seenDelete?.order?.id, created.id);
      }
    } finally {
      watching.abort();
    }
  });

  /** Clients of every protocol through nginx, retrying UNAVAILABLE as gRPC's standard retry policy does. */
  const retryingLoad = (stats: RetryStats): ScaleLoad => {
    const interceptors = [retryInterceptor(stats)];
    return startScaleLoad(
      [
        createGrpcTransport({ baseUrl: nginx.h2cUrl, interceptors }),
        createGrpcWebTransport({ baseUrl: nginx.http1Url, httpVersion: "1.1", interceptors }),
        createConnectTransport({ baseUrl: nginx.http1Url, httpVersion: "1.1", interceptors }),
        createConnectTransport({ baseUrl: nginx.h2cUrl, httpVersion: "2", useBinaryFormat: true, interceptors }),
        createConnectTransport({ baseUrl: nginx.http1Url, httpVersion: "1.1", useHttpGet: true, interceptors }),
      ],
      [createGrpcTransport({ baseUrl: nginx.h2cUrl }), createConnectTransport({ baseUrl: nginx.http1Url, httpVersion: "1.1" })],
    );
  };

  /** Every acknowledged order is in the database. */
  const checkAfterLoad = async (load: ScaleLoad) => {
    const stored = new Set((await set.query<{ id: string }>("select id from orders")).map((row) => row.id));
    const lost = [...load.acknowledged].filter(([, id]) => !stored.has(id));
    assert.deepEqual(lost, [], "acknowledged creates missing from PostgreSQL");
  };

  /**
   * Waits until `replica`'s current process has served a call through each of
   * nginx's two upstream blocks (grpc_pass over HTTP/2, proxy_pass over
   * HTTP/1.1): each block keeps its own record of failed replicas, so one
   * block may still hold the replica out of rotation after the other took it
   * back. An operator's rolling restart waits for the same before stopping
   * the next replica.
   */
  const servesAgain = async (replica: Replica) => {
    for (const http of ["2.0", "1.1"]) {
      await replica.process.waitForLog((record) => typeof record.procedure === "string" && record.http === http, 20_000);
    }
  };

  test("rolling restart under load: each replica in turn gets SIGTERM and comes back; zero failed unary calls", async () => {
    const stats: RetryStats = { retried: 0 };
    const load = retryingLoad(stats);
    try {
      await load.moreSucceeded(50);
      for (const replica of set.replicas) {
        const code = await replica.restart();
        assert.equal(code, 0, "the replica drained and exited cleanly");
        await servesAgain(replica);
        await load.moreSucceeded(50);
      }
      // Resync: each watcher is connected again and sees a change made now.
      const probe = createClient(OrderService, createGrpcTransport({ baseUrl: set.replicas[0]?.baseUrl ?? "" }));
      const created = (await probe.createOrder({ name: "after the rolling restart" })).order;
      assert.ok(created);
      for (let waited = 0; !load.watchSeen.every((seen) => seen.has(created.id)); waited += 50) {
        assert.ok(waited < 10_000, `watchers did not see the new order; sessions ${load.watchSessions}`);
        await sleep(50);
      }
    } finally {
      await load.stop();
    }
    assert.deepEqual(load.failed, [], "unary calls that failed after retries");
    assert.ok(
      load.watchSessions.some((sessions) => sessions > 1),
      `some watcher reconnected: ${load.watchSessions}`,
    );
    await checkAfterLoad(load);
    console.log(
      `rolling restart: ${load.succeeded} calls, ${stats.retried} retried attempts, 0 failed; ` +
        `${load.acknowledged.size} creates acknowledged and stored; watch sessions ${load.watchSessions}`,
    );
  });

  test("one replica killed with SIGKILL under load: the other serves; failures are bounded and retried calls succeed", async () => {
    const stats: RetryStats = { retried: 0 };
    const load = retryingLoad(stats);
    const [victim] = set.replicas;
    assert.ok(victim);
    try {
      await load.moreSucceeded(50);
      await victim.kill();
      // The survivor serves alone.
      await load.moreSucceeded(100);
      await victim.start();
      await servesAgain(victim);
      await load.moreSucceeded(30);
    } finally {
      await load.stop();
    }
    assert.deepEqual(load.failed, [], "unary calls that failed after retries");
    // Calls in flight on the killed replica fail once (nginx does not resend a POST it sent), then succeed on retry.
    assert.ok(stats.retried <= 50, `retried attempts: ${stats.retried}`);
    await checkAfterLoad(load);
    console.log(
      `SIGKILL: ${load.succeeded} calls, ${stats.retried} retried attempts, 0 failed; watch errors: ${JSON.stringify(load.watchErrors)}`,
    );
  });
});
