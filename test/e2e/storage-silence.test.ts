import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { handleClientErrors } from "../../server/storage/client-errors.js";
import { isConnectionFailure, QueryTimeoutError } from "../../server/storage/failures.js";
import { queryTimeoutMs } from "../../server/storage/postgres.js";
import { withQueryDeadline } from "../../server/storage/query-deadline.js";
import { postgresCase, postgresSkipReason } from "../support/database.js";
import { databaseUnavailable } from "../support/order-load.js";
import { openWatch } from "../support/order-watch.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

// A network to PostgreSQL that goes silent instead of breaking: nothing is
// closed, nothing answers (the proxy stops relaying). Without deadlines a
// call would wait forever.

const martian = "a8034f44-aee4-44cf-b32c-74cf452aaaae";

/** DATABASE_URL with its host and port replaced by the proxy's. */
function throughProxy(databaseUrl: string, proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return url.toString();
}

async function failure(operation: Promise<unknown>): Promise<unknown> {
  return operation.then(
    () => assert.fail("expected the operation to fail"),
    (error: unknown) => error,
  );
}

describeUnless(postgresSkipReason, "PostgreSQL that stops answering", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function proxied(): Promise<{ url: string; directUrl: string; proxy: TcpProxy }> {
    const database = await postgresCase();
    cleanups.push(() => database.cleanup());
    const directUrl = database.env.DATABASE_URL ?? "";
    const target = new URL(directUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => proxy.close());
    return { url: throughProxy(directUrl, proxy), directUrl, proxy };
  }

  test("a query without an answer fails after the deadline, even inside a transaction, and its connection is never lent again", async () => {
    const { url, proxy } = await proxied();
    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5_000, max: 2 });
    // As the server does: a connection cut under a checked-out client must not throw.
    handleClientErrors(pool, () => {});
    cleanups.push(() => pool.end());
    const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool: withQueryDeadline(pool, 1_000) }) });
    assert.deepEqual((await sql<{ one: number }>`select 1 as one`.execute(db)).rows, [{ one: 1 }]);

    proxy.freeze();
    const alone = await failure(sql`select 2`.execute(db));
    assert.ok(alone instanceof QueryTimeoutError, `got ${String(alone)}`);
    assert.match(alone.message, /did not answer within 1000 ms/);
    assert.ok(isConnectionFailure(alone), "callers report it as UNAVAILABLE");
    proxy.thaw();

    const inTransaction = await failure(
      db.transaction().execute(async (tx) => {
        await sql`select 1`.execute(tx);
        proxy.freeze();
        await sql`select 2`.execute(tx);
      }),
    );
    // The ROLLBACK that follows fails at once on the dropped connection, rather than waiting for a deadline of its own.
    assert.ok(isConnectionFailure(inTransaction), `got ${String(inTransaction)}`);
    proxy.thaw();

    // Connections still waiting for an answer were dropped, not put back:
    // every query now is answered, none is stuck behind a pending one.
    for (let query = 0; query < 5; query++) {
      assert.deepEqual((await sql<{ n: number }>`select ${query}::int as n`.execute(db)).rows, [{ n: query }]);
    }
  });

  test("the server ends watches within seconds and fails a call in flight with UNAVAILABLE after the query deadline, then recovers", {
    timeout: queryTimeoutMs + 120_000,
  }, async () => {
    const { url, proxy } = await proxied();
    const server: TestServer = await startTestServer({ DATABASE_URL: url });
    cleanups.push(() => server.shutdown());
    const transport = createGrpcTransport({ baseUrl: server.baseUrl });
    const movies = createClient(MovieService, transport);
    const orders = createClient(OrderService, transport);
    assert.equal((await movies.getMovie({ id: martian })).movie?.title, "The Martian");
    const watch = await openWatch(orders);

    proxy.freeze();
    const call = failure(movies.getMovie({ id: martian }));

    // The change feed's heartbeat notices long before the query deadline.
    const ended = await watch.ended;
    assert.equal(ended?.code, Code.Unavailable);
    assert.equal(server.dependencies.databaseHealth.reachable, false);

    const failed = ConnectError.from(await call);
    assert.equal(`${Code[failed.code]}: ${failed.rawMessage}`, `Unavailable: ${databaseUnavailable}`);
    const reason = server.logs.find((record) => String(record.reason ?? "").includes(`did not answer within ${queryTimeoutMs} ms`));
    assert.ok(reason, "the call ended by the query deadline, and the log says the database stopped answering");

    proxy.thaw();
    for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
      try {
        assert.equal((await movies.getMovie({ id: martian })).movie?.title, "The Martian");
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    assert.deepEqual(
      server.logs.filter((record) => record.msg === "unexpected error in handler"),
      [],
    );
  });
});
