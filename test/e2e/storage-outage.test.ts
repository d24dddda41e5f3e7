import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { type ServerProcess, spawnServer } from "../support/process.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

const martian = "a8034f44-aee4-44cf-b32c-74cf452aaaae";

/** DATABASE_URL with its host and port replaced by the proxy's. */
function throughProxy(databaseUrl: string, proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return url.toString();
}

async function eventually<T>(attempt: () => Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let waited = 0; waited < 20_000; waited += 100) {
    try {
      return await attempt();
    } catch (error) {
      last = error;
      await sleep(100);
    }
  }
  throw new Error(`${what} did not happen within 20 s: ${String(last)}`);
}

describeUnless(postgresSkipReason, "PostgreSQL going away and coming back", () => {
  let database: EngineCase | undefined;
  let proxy: TcpProxy | undefined;
  let server: TestServer | undefined;
  let late: ServerProcess | undefined;
  after(async () => {
    await late?.stop();
    await server?.shutdown();
    await proxy?.close();
    await database?.cleanup();
  });

  test("the server waits for a database that is late at start, retrying and saying so", async () => {
    database = await postgresCase();
    const target = new URL(database.env.DATABASE_URL ?? "");
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, { down: true });
    late = spawnServer({ DATABASE_URL: throughProxy(database.env.DATABASE_URL ?? "", proxy), SHUTDOWN_GRACE_MS: "500" });
    const retrying = await late.waitForLog((record) => record.msg.startsWith("PostgreSQL is not reachable yet"));
    assert.match(retrying.msg, /ECONNREFUSED.*retrying in \d+ ms/);
    assert.equal(
      late.logs.some((record) => record.msg.startsWith("serving")),
      false,
      "no port before the database",
    );

    await proxy.restore();
    const port = await late.serving();
    const movie = await createClient(MovieService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })).getMovie({ id: martian });
    assert.equal(movie.movie?.title, "The Martian");
    assert.equal(await late.stop(), 0);
  });

  test("calls get UNAVAILABLE while it is gone, watches end, health follows, and everything recovers by itself", async () => {
    assert.ok(database && proxy);
    server = await startTestServer({ DATABASE_URL: throughProxy(database.env.DATABASE_URL ?? "", proxy) });
    const transport = createGrpcTransport({ baseUrl: server.baseUrl });
    const movies = createClient(MovieService, transport);
    const orders = createClient(OrderService, transport);
    const health = server.dependencies.databaseHealth;
    const healthChanges: boolean[] = [];
    health.onChange((reachable) => healthChanges.push(reachable));
    assert.equal(health.reachable, true);

    const watch = orders.watchOrders({})[Symbol.asyncIterator]();
    assert.equal((await watch.next()).value?.started, true);
    const watchEnded = watch.next().then(
      () => assert.fail("the watch should end with an error"),
      (error: unknown) => ConnectError.from(error),
    );

    await proxy.cut();

    const lost = await watchEnded;
    assert.equal(lost.code, Code.Unavailable);
    assert.match(
      lost.rawMessage,
      /^lost the connection to the database, so changes may have been missed; list the orders again and reopen the watch$/,
    );

    const failed = await rejection(movies.getMovie({ id: martian }));
    assert.equal(failed.code, Code.Unavailable);
    assert.equal(failed.rawMessage, "the database cannot be reached right now; try again shortly");
    assert.doesNotMatch(failed.rawMessage, new RegExp(String(proxy.port)), "no internal address reaches the client");
    assert.equal((await rejection(orders.createOrder({ name: "During the outage" }))).code, Code.Unavailable);
    const refusedWatch = await rejection(
      (async () => {
        for await (const _ of orders.watchOrders({})) assert.fail("no watch while the database is away");
      })(),
    );
    assert.equal(refusedWatch.code, Code.Unavailable);
    assert.equal(health.reachable, false);
    assert.deepEqual(healthChanges, [false]);
    const outage = server.logs.find((record) => record.msg === "lost the connection to PostgreSQL; reconnecting");
    assert.ok(outage, "the outage is logged");
    assert.match(String(outage.reason), /\w/, "with the reason");

    await proxy.restore();

    assert.equal((await eventually(() => movies.getMovie({ id: martian }), "reading a movie again")).movie?.title, "The Martian");
    await eventually(async () => assert.equal(health.reachable, true), "health turning reachable");
    assert.deepEqual(healthChanges, [false, true]);

    const again = orders.watchOrders({})[Symbol.asyncIterator]();
    assert.equal((await again.next()).value?.started, true);
    const created = (await orders.createOrder({ name: "After the outage" })).order;
    assert.equal((await again.next()).value?.order?.id, created?.id);
    await again.return?.();
    assert.deepEqual(
      server.logs.filter((record) => record.msg === "unexpected error in handler"),
      [],
      "every failure during the outage was reported as UNAVAILABLE, none as an internal error",
    );
  });
});
