import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import pg from "pg";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { startOrderLoad } from "../support/order-load.js";
import { type OpenWatch, openWatch } from "../support/order-watch.js";
import { type ServerProcess, spawnServer } from "../support/process.js";
import { describeUnless } from "../support/skip.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

// A server process (so an unhandled error would really end it) behind a TCP
// proxy to PostgreSQL, under steady load from 16 clients and a watcher, with
// the connection cut several times, at chosen moments, by the proxy.

const clients = 16;
const lostFeed = "lost the connection to the database, so changes may have been missed; list the orders again and reopen the watch";

/** DATABASE_URL with its host and port replaced by the proxy's. */
function throughProxy(databaseUrl: string, proxy: TcpProxy): string {
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return url.toString();
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms, undefined, { ref: false }).then(() => Promise.reject(new Error(`${what} within ${ms} ms`)))]);
}

/** A watch, once the server can offer one again: UNAVAILABLE is retried (the change feed may still be reconnecting). */
async function watchWhenBack(orders: Parameters<typeof openWatch>[0]): Promise<OpenWatch> {
  for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
    try {
      return await openWatch(orders);
    } catch (error) {
      const failure = ConnectError.from(error);
      if (failure.code !== Code.Unavailable || Date.now() > deadline) throw error;
    }
  }
}

describeUnless(postgresSkipReason, "PostgreSQL cut again and again while clients create orders", () => {
  let database: EngineCase | undefined;
  let proxy: TcpProxy | undefined;
  let server: ServerProcess | undefined;
  let sessions: Http2SessionManager | undefined;
  after(async () => {
    sessions?.abort();
    await server?.stop();
    await proxy?.close();
    await database?.cleanup();
  });

  test("calls fail only with UNAVAILABLE, watches end with it, the server recovers alone each time, and no acknowledged order is lost", {
    timeout: 300_000,
  }, async (t) => {
    database = await postgresCase();
    const directUrl = database.env.DATABASE_URL ?? "";
    const target = new URL(directUrl);
    const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxy = relay;
    const serverProcess = spawnServer({ DATABASE_URL: throughProxy(directUrl, relay), SHUTDOWN_GRACE_MS: "2000" });
    server = serverProcess;
    const baseUrl = `http://127.0.0.1:${await serverProcess.serving()}`;
    sessions = new Http2SessionManager(baseUrl);
    const orders = createClient(OrderService, createGrpcTransport({ baseUrl, sessionManager: sessions }));
    const load = startOrderLoad(orders, clients, "blip");
    /** Whether the server still runs, else how it ended: for failure messages. */
    const serverState = async () => {
      const exit = await Promise.race([serverProcess.exited, sleep(500, undefined, { ref: false })]);
      if (exit === undefined) return "the server is still running";
      return `the server exited (${exit.code ?? exit.signal}): ${exit.stderr
        .split("\n")
        .filter((line) => line.trim() !== "")
        .slice(0, 6)
        .join(" | ")}`;
    };

    const cuts: Array<{ readonly when: string; cut(): Promise<void> }> = [
      { when: "at an arbitrary moment", cut: () => relay.cut() },
      // An order write is one statement in autocommit, its NOTIFY included:
      // cut once its parameters (the order's name, in its Bind message; the
      // statement's text goes only once per connection, prepared) were sent,
      // before its answer, it may or may not have committed.
      { when: "just after an order's write and its NOTIFY were sent, before their answer", cut: () => relay.cutWhenSent("order blip-") },
      {
        when: "and again while the change feed was re-issuing LISTEN",
        async cut() {
          await relay.cut();
          await load.moreUnavailable(clients);
          const again = relay.cutWhenSent('listen "');
          await relay.restore();
          await within(again, 60_000, "the change feed did not try to LISTEN again");
        },
      },
    ];

    try {
      for (const { when, cut } of cuts) {
        // Working (again): orders are created and the change feed delivers them.
        await load.moreAcknowledged(2 * clients);
        const watch = await watchWhenBack(orders);
        await watch.moreChanges(1);

        const failedBefore = load.unavailable;
        await within(cut(), 60_000, `the cut ${when} did not happen`);
        const ended = await within(watch.ended, 30_000, `the watch did not end after the cut ${when}`);
        const how = ended === undefined ? "no error" : `${Code[ended.code]}: ${ended.rawMessage}`;
        if (how !== `Unavailable: ${lostFeed}`) assert.fail(`after the cut ${when} the watch ended with ${how}; ${await serverState()}`);
        await load.moreUnavailable(clients);
        if (serverProcess.child.exitCode !== null) assert.fail(`after the cut ${when}: ${await serverState()}`);
        t.diagnostic(
          `cut ${when}: ${load.unavailable - failedBefore} calls got UNAVAILABLE, ${load.acknowledged.size} orders acknowledged so far`,
        );
        // Stay down a little: the clients keep calling meanwhile.
        await sleep(500);
        await relay.restore();
      }

      // Back once more after the last cut, without a restart.
      await load.moreAcknowledged(2 * clients);
      const watch = await watchWhenBack(orders);
      await watch.moreChanges(1);
      watch.close();
    } finally {
      await load.stop();
    }

    if (load.unexpected.length > 0) {
      assert.fail(
        `calls failed otherwise than with the database's UNAVAILABLE: ${load.unexpected.slice(0, 5).join("; ")}; ${await serverState()}`,
      );
    }
    assert.equal(serverProcess.child.exitCode, null, "the server process is still running");
    t.diagnostic(`${load.acknowledged.size} orders acknowledged, ${load.unavailable} calls answered UNAVAILABLE over ${cuts.length} cuts`);

    // Every acknowledged order is in PostgreSQL (read directly, not through the server), with the id the client was given.
    const direct = new pg.Client({ connectionString: directUrl });
    await direct.connect();
    try {
      const { rows } = await direct.query<{ key: string; id: string }>(
        "select idempotency_key as key, id from orders where idempotency_key = any($1::text[])",
        [[...load.acknowledged.keys()]],
      );
      const stored = new Map(rows.map(({ key, id }) => [key, id]));
      const missing = [...load.acknowledged].filter(([key, id]) => stored.get(key) !== id);
      assert.deepEqual(missing, [], "acknowledged orders missing from the database, or stored under another id");
    } finally {
      await direct.end();
    }

    const outages = serverProcess.logs.filter((record) => record.msg === "lost the connection to PostgreSQL; reconnecting").length;
    assert.ok(outages >= cuts.length, `each cut was noticed (${outages} of ${cuts.length})`);
    assert.deepEqual(
      serverProcess.logs.filter((record) => record.msg === "unexpected error in handler"),
      [],
      "no failure during the cuts surfaced as an internal error",
    );
    assert.equal(await serverProcess.stop(), 0, "the server still shuts down cleanly");
  });
});
