import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { postgresMigrations as schemaHistory } from "../../server/storage/migrations/postgres.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { openWatch } from "../support/order-watch.js";
import { type ServerProcess, spawnServer } from "../support/process.js";
import { describeUnless } from "../support/skip.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

// The connection to PostgreSQL cut while a server process is still starting:
// in the middle of its migrations, then while it starts to LISTEN.

/** DATABASE_URL with its host and port replaced by the proxy's. */
function throughProxy(databaseUrl: string, proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return url.toString();
}

describeUnless(postgresSkipReason, "PostgreSQL cut while the server starts", () => {
  let database: EngineCase | undefined;
  let proxy: TcpProxy | undefined;
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
    await proxy?.close();
    await database?.cleanup();
  });

  test("a cut mid-migration or mid-LISTEN means starting the step over: the server comes up, each migration applied once", {
    timeout: 120_000,
  }, async () => {
    database = await postgresCase();
    const directUrl = database.env.DATABASE_URL ?? "";
    const target = new URL(directUrl);
    const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxy = relay;

    // The last migration creates the orders table: the first two ran in the same transaction.
    const midMigration = relay.cutWhenSent('create table "orders"');
    const starting = spawnServer({ DATABASE_URL: throughProxy(directUrl, relay), SHUTDOWN_GRACE_MS: "1000" });
    server = starting;
    await midMigration;
    const retried = await starting.waitForLog((record) =>
      record.msg.startsWith("lost the connection to PostgreSQL while preparing the database"),
    );
    assert.match(retried.msg, /retrying in \d+ ms$/);

    const midListen = relay.cutWhenSent('listen "');
    await relay.restore();
    await midListen;
    await starting.waitForLog((record) => record.msg.startsWith("could not listen for order changes yet"));
    await relay.restore();

    const port = await starting.serving(60_000);
    const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` });
    assert.equal(
      (await createClient(MovieService, transport).getMovie({ id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" })).movie?.title,
      "The Martian",
    );
    const orders = createClient(OrderService, transport);
    const watch = await openWatch(orders);
    await orders.createOrder({ name: "After a rough start" });
    // The change may arrive before the create's answer does.
    await watch.changesReach(1);
    watch.close();

    // Logged as applied only once they were, and in the database exactly once: the seed too.
    const applied = starting.logs.filter((record) => record.msg === "applied database migration").map((record) => record.migration);
    assert.deepEqual(applied, Object.keys(schemaHistory));
    const direct = new pg.Client({ connectionString: directUrl });
    await direct.connect();
    try {
      const migrations = await direct.query<{ name: string }>("select name from kysely_migration order by name");
      assert.deepEqual(
        migrations.rows.map((row) => row.name),
        Object.keys(schemaHistory),
      );
      assert.equal((await direct.query<{ count: string }>("select count(*) from movies")).rows[0]?.count, "7");
    } finally {
      await direct.end();
    }
    assert.equal(await starting.stop(), 0);
  });
});
