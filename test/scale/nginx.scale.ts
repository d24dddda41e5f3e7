import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { OrderChangeType, OrderService } from "../../gen/order/v1/order_pb.js";
import { postgresSkipReason } from "../support/database.js";
import { type Nginx, nginxSkipReason, startNginx } from "../support/nginx.js";
import { type ReplicaSet, startReplicas } from "../support/replicas.js";
import { describeUnless } from "../support/skip.js";

async function* names(...list: string[]) {
  for (const name of list) yield { name };
}

describeUnless(nginxSkipReason ?? postgresSkipReason, "two replicas on one PostgreSQL behind nginx", () => {
  let set: ReplicaSet;
  let nginx: Nginx;
  before(async () => {
    set = await startReplicas(2, { SHUTDOWN_GRACE_MS: "2000" });
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
      const served = set.replicas.map((replica, index) =>
        replica.process.logs
          .slice(before[index])
          .filter((record) => record.procedure === "/calculator.v1.CalculatorService/Add" && record.protocol === protocol),
      );
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
});
