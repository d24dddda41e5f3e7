import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { sqliteCase } from "../support/database.js";
import { type StartedServer, spawnServer, startServerProcess } from "../support/process.js";
import { startTestServer } from "../support/server.js";

// The embedded database (SQLite) as a fresh clone's `npm start` uses it, in
// a server process of its own: a new folder, the same folder again,
// memory://, a folder the old engine (PGlite) left, and files it cannot use.

/** What the server process holds in RAM now, and at most so far, in MiB (Linux). */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/** RSS after start, on a new folder or an existing one. */
const maxRssAfterStartMiB = 200;
/** The highest RSS ever, after some database work. */
const maxPeakAfterWorkMiB = 300;
/**
 * From spawning the process to serving on a new folder (measured at about
 * 0.3 s on an idle machine; the bound leaves room for a busy CI runner). A
 * new SQLite file takes about a millisecond to create.
 */
const maxStartMs = 3_000;
/** RSS after the benchmark's kind of load (many calls at a time): 250 MB. */
const maxRssUnderLoadMiB = 250e6 / 2 ** 20;
/** How long an idle server may take to give memory back: its check runs every 2 s and wants one idle interval. */
const idleWaitMs = 15_000;
const linuxOnly = process.platform === "linux" ? undefined : "reads /proc";

const running: StartedServer[] = [];
after(() => {
  for (const server of running) server.child.kill("SIGKILL");
});

async function start(env: Record<string, string>): Promise<StartedServer> {
  const server = await startServerProcess({ ...env, LOG_LEVEL: "info" });
  running.push(server);
  return server;
}

function orders(server: StartedServer) {
  return createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl }));
}

function assertFits(server: StartedServer, what: string, maxMiB = maxRssAfterStartMiB): void {
  const pid = server.child.pid;
  assert.ok(pid !== undefined);
  const { rss } = memoryMiB(pid);
  assert.ok(rss <= maxMiB, `${what}: ${rss.toFixed(0)} MiB RSS after start, more than ${maxMiB} MiB`);
}

const created = (server: StartedServer) => server.logs.filter((record) => record.msg.startsWith("created the embedded database"));

describe("the embedded database, light", () => {
  const data = sqliteCase();
  after(async () => (await data).cleanup());

  test("a new folder gets a new database file and serves at once; the server fits", { skip: linuxOnly }, async () => {
    const started = performance.now();
    const server = await start((await data).env);
    const startMs = performance.now() - started;
    assert.ok(startMs < maxStartMs, `serving ${startMs.toFixed(0)} ms after the process was spawned`);
    const dataDir = (await data).env.DATA_DIR ?? "";
    assert.equal(created(server).length, 1, "the new file is announced");
    assert.equal(created(server)[0]?.file, path.join(dataDir, "server.db"));
    assertFits(server, "new folder");
    const order = (await orders(server).createOrder({ name: "Kept", date: { seconds: 1_800_000_000n, nanos: 123_456_000 } })).order;
    assert.equal(order?.date?.nanos, 123_456_000);
    assert.equal(await server.stop(), 0);
  });

  test("the same folder opens again, with its data; the server fits", { skip: linuxOnly }, async () => {
    const server = await start((await data).env);
    assert.equal(created(server).length, 0, "an existing folder is opened as it is");
    assertFits(server, "existing folder");
    const listed = (await orders(server).listOrders({})).orders;
    assert.deepEqual(
      listed.map((order) => [order.name, order.date?.nanos]),
      [["Kept", 123_456_000]],
    );

    const transport = createGrpcTransport({ baseUrl: server.baseUrl });
    const movies = createClient(MovieService, transport);
    const client = orders(server);
    for (let round = 0; round < 100; round++) {
      await Promise.all([
        movies.getMovie({ id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" }),
        client.createOrder({ name: `Work ${round}` }),
        client.listOrders({ pageSize: 20 }),
        (async () => {
          for await (const _ of movies.listMovies({})) {
          }
        })(),
      ]);
    }
    const pid = server.child.pid;
    assert.ok(pid !== undefined);
    const { peak } = memoryMiB(pid);
    assert.ok(peak <= maxPeakAfterWorkMiB, `${peak.toFixed(0)} MiB RSS at the most, more than ${maxPeakAfterWorkMiB} MiB`);
    assert.equal(await server.stop(), 0);
  });

  test("the file is in WAL mode, and an acknowledged order is in it once the server is gone", { skip: linuxOnly }, async () => {
    const server = await start((await data).env);
    const order = (await orders(server).createOrder({ name: "Durable", date: { seconds: 253_402_300_799n, nanos: 999_999_000 } })).order;
    assert.ok(order);
    // SIGKILL: no shutdown, no checkpoint; the commit is in the WAL.
    server.child.kill("SIGKILL");
    await server.exited;
    const file = path.join((await data).env.DATA_DIR ?? "", "server.db");
    const database = new DatabaseSync(file);
    try {
      assert.deepEqual({ ...database.prepare("pragma journal_mode").get() }, { journal_mode: "wal" });
      const row = database.prepare("select name, cast(date as text) as date from orders where id = ?").get(order.id);
      assert.deepEqual({ ...row }, { name: "Durable", date: "253402300799999999" }, "the last microsecond of year 9999, exactly");
    } finally {
      database.close();
    }
  });

  test("the server runs with the small heap's start-up flags, in the process it was started as", { skip: linuxOnly }, async () => {
    const small = await start((await data).env);
    const fast = await start({ DATA_DIR: "memory://", HEAP_PROFILE: "fast" });
    const flagsOf = (server: StartedServer) =>
      readFileSync(`/proc/${server.child.pid}/cmdline`, "utf8")
        .split("\0")
        .filter((arg) => arg.startsWith("--"));
    // The pid is the one the test started: the server restarted in place (server/heap-profile.ts).
    assert.deepEqual(flagsOf(small), ["--max-semi-space-size=8", "--no-concurrent-recompilation", "--expose-gc"]);
    assert.deepEqual(flagsOf(fast), []);
    assert.equal(await small.stop(), 0);
    assert.equal(await fast.stop(), 0);
  });

  test("128 calls at a time: the server stays under 250 MB, and gives memory back once idle", { skip: linuxOnly }, async () => {
    const server = await start((await data).env);
    const transport = createGrpcTransport({ baseUrl: server.baseUrl });
    const movies = createClient(MovieService, transport);
    const client = orders(server);
    // As the benchmark's database workloads: many calls in flight is what makes V8's heap grow.
    const loops = Array.from({ length: 128 }, async (_, loop) => {
      for (let call = 0; call < 40; call++) {
        if (loop % 2 === 0) await movies.getMovie({ id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" });
        else await client.createOrder({ name: `Load ${loop}.${call}` });
      }
    });
    const streams = Array.from({ length: 4 }, async () => {
      for (let round = 0; round < 20; round++) {
        for await (const _ of movies.listMovies({})) {
        }
      }
    });
    await Promise.all([...loops, ...streams]);
    const pid = server.child.pid;
    assert.ok(pid !== undefined);
    const { rss } = memoryMiB(pid);
    assert.ok(rss <= maxRssUnderLoadMiB, `${rss.toFixed(0)} MiB RSS after the load, more than ${maxRssUnderLoadMiB.toFixed(0)} MiB`);
    // Idle, the server runs one memory-reducing collection (server/heap-profile.ts): V8 alone keeps what the load grew.
    const givenBack = 10;
    let idle = rss;
    for (const deadline = Date.now() + idleWaitMs; Date.now() < deadline && idle > rss - givenBack; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      idle = memoryMiB(pid).rss;
    }
    assert.ok(idle <= rss - givenBack, `${idle.toFixed(0)} MiB RSS once idle, from ${rss.toFixed(0)} MiB after the load`);
    assert.equal(await server.stop(), 0);
  });

  test("memory:// is a new database every time, and writes no file", { skip: linuxOnly }, async () => {
    for (const round of [1, 2]) {
      const server = await start({ DATA_DIR: "memory://" });
      assert.ok(server.logs.some((record) => record.msg.startsWith("using an in-memory embedded database")));
      assertFits(server, "memory://");
      const client = orders(server);
      assert.deepEqual((await client.listOrders({})).orders, [], `round ${round}: nothing from before`);
      await client.createOrder({ name: "Forgotten" });
      let movies = 0;
      for await (const _ of createClient(MovieService, createGrpcTransport({ baseUrl: server.baseUrl })).listMovies({})) movies++;
      assert.equal(movies, 7, "the catalogue is seeded");
      assert.equal(await server.stop(), 0);
    }
  });

  test("a folder the old engine (PGlite) left is left untouched, and the start says where the database is now", async () => {
    const dataDir = path.join(path.dirname((await data).env.DATA_DIR ?? ""), "upgraded");
    const old = path.join(dataDir, "pglite");
    await mkdir(old, { recursive: true });
    await writeFile(path.join(old, "PG_VERSION"), "17\n");
    const server = await start({ DATA_DIR: dataDir });
    const notices = server.logs.filter((record) => record.msg.includes("changed from PGlite to SQLite"));
    assert.equal(notices.length, 1);
    assert.equal(notices[0]?.level, 40, "a warning on the first start");
    assert.match(notices[0]?.msg ?? "", new RegExp(`${old} is left untouched .* the database is now ${path.join(dataDir, "server.db")}`));
    assert.equal(await server.stop(), 0);
    assert.deepEqual(readdirSync(old), ["PG_VERSION"]);
  });
});

describe("an embedded database the server cannot use", () => {
  const data = sqliteCase();
  after(async () => (await data).cleanup());

  test("a file that is not a database: one line that says what to do, exit code 1", async () => {
    const dataDir = (await data).env.DATA_DIR ?? "";
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, "server.db");
    await writeFile(file, "these bytes are not a SQLite database, and never were. ".repeat(200));
    const { code, output, stderr } = await spawnServer({ DATA_DIR: dataDir }).exited;
    assert.equal(code, 1);
    const fatal = output.split("\n").filter((line) => line.includes('"level":60'));
    assert.equal(fatal.length, 1, output);
    assert.match(
      fatal[0] ?? "",
      new RegExp(`could not open the embedded database ${file}: the file is not a SQLite database.*move the file`),
    );
    assert.equal(stderr, "");
  });

  test("a read-only data folder: one line that says what to do, exit code 1", {
    skip: process.getuid?.() === 0 ? "runs as root, which may write to any folder" : undefined,
  }, async () => {
    const dataDir = path.join(path.dirname((await data).env.DATA_DIR ?? ""), "read-only");
    await mkdir(dataDir, { recursive: true, mode: 0o555 });
    const { code, output } = await spawnServer({ DATA_DIR: dataDir }).exited;
    assert.equal(code, 1);
    assert.match(output, /could not open the embedded database .*server\.db: .*read and write the data folder/);
  });
});

describe("an embedded database that fails while serving", () => {
  const data = sqliteCase();
  after(async () => (await data).cleanup());

  test("a write another process blocks fails with UNAVAILABLE and one log line; reads go on, and writes once it is done", async () => {
    const { env } = await data;
    const server = await startTestServer(env);
    const client = createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl }));
    const before = (await client.createOrder({ name: "Before" })).order;
    assert.ok(before);
    // Another connection to the file (as the sqlite3 shell would be) holding a write transaction.
    const other = new DatabaseSync(path.join(env.DATA_DIR ?? "", "server.db"));
    try {
      other.exec("begin immediate");
      other.prepare("update orders set name = 'Held' where id = ?").run(before.id);
      const failures = await Promise.all([1, 2].map((n) => rejection(client.createOrder({ name: `Blocked ${n}` }))));
      for (const failure of failures) {
        assert.equal(failure.code, Code.Unavailable);
        assert.match(failure.rawMessage, /^the database cannot be reached right now; try again shortly$/);
      }
      const logged = server.logs.filter((record) => String(record.msg).startsWith("the embedded database"));
      assert.equal(logged.length, 1, JSON.stringify(logged));
      assert.match(String(logged[0]?.msg), /failed a call: the database is locked by another connection/);
      assert.equal((await client.getOrder({ id: before.id })).order?.name, "Before", "reads go on");
      other.exec("rollback");
      assert.equal((await client.createOrder({ name: "After" })).order?.name, "After");
      assert.deepEqual(
        (await client.listOrders({})).orders.map((order) => order.name),
        ["Before", "After"],
      );
    } finally {
      other.close();
      await server.shutdown();
    }
  });
});
