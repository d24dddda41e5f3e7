import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { pgliteCase } from "../support/database.js";
import { type StartedServer, startServerProcess } from "../support/process.js";

// The embedded database as a fresh clone's `npm start` uses it, in a server
// process of its own: a new folder, the same folder again, and memory://.
// Memory is asserted here (it does not depend on how busy the machine is);
// start times are the benchmark's to report.

/** What the server process holds in RAM now, and at most so far, in MiB (Linux). */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/** RSS after start, on a new folder or an existing one. */
const maxRssAfterStartMiB = 200;
/**
 * The highest RSS ever, after some database work: V8 optimising PGlite's
 * WebAssembly would add about 500 MB (the benchmark reports RSS under load).
 */
const maxPeakAfterWorkMiB = 300;
/** RSS after the benchmark's kind of load (many calls at a time): 250 MB. */
const maxRssUnderLoadMiB = 250e6 / 2 ** 20;
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

const created = (server: StartedServer) => server.logs.filter((record) => record.msg.startsWith("created a new embedded database"));

describe("the embedded database, light", () => {
  const data = pgliteCase();
  after(async () => (await data).cleanup());

  test("a new folder is created outside the server process, then opened; the server fits", { skip: linuxOnly }, async () => {
    const server = await start((await data).env);
    assert.equal(created(server).length, 1, "initdb ran for the new folder");
    assertFits(server, "new folder");
    const order = (await orders(server).createOrder({ name: "Kept", date: { seconds: 1_800_000_000n, nanos: 123_456_000 } })).order;
    assert.equal(order?.date?.nanos, 123_456_000);
    assert.equal(await server.stop(), 0);
  });

  test("the same folder opens again, with its data, without initdb; the server fits", { skip: linuxOnly }, async () => {
    const server = await start((await data).env);
    assert.equal(created(server).length, 0, "an existing folder is opened as it is");
    assertFits(server, "existing folder");
    const listed = (await orders(server).listOrders({})).orders;
    assert.deepEqual(
      listed.map((order) => [order.name, order.date?.nanos]),
      [["Kept", 123_456_000]],
    );

    // Enough queries for V8 to optimise PostgreSQL's hottest functions, if
    // it were allowed to: that alone takes hundreds of MB for a moment.
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

  test("the server runs with the small heap's start-up flags, in the process it was started as", { skip: linuxOnly }, async () => {
    const small = await start((await data).env);
    const fast = await start({ DATA_DIR: "memory://", HEAP_PROFILE: "fast" });
    const flagsOf = (server: StartedServer) =>
      readFileSync(`/proc/${server.child.pid}/cmdline`, "utf8")
        .split("\0")
        .filter((arg) => arg.startsWith("--"));
    // The pid is the one the test started: the server restarted in place (server/storage/pglite-heap.ts).
    assert.deepEqual(flagsOf(small), ["--min-semi-space-size=4", "--max-semi-space-size=4"]);
    assert.deepEqual(flagsOf(fast), []);
    assert.equal(await small.stop(), 0);
    assert.equal(await fast.stop(), 0);
  });

  test("128 calls at a time: the server stays under 250 MB", { skip: linuxOnly }, async () => {
    const server = await start((await data).env);
    const transport = createGrpcTransport({ baseUrl: server.baseUrl });
    const movies = createClient(MovieService, transport);
    const client = orders(server);
    // As the benchmark's database workloads: each call waits its turn for
    // the one embedded connection while the others are in flight, which is
    // what makes V8's heap grow.
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
    assert.equal(await server.stop(), 0);
  });

  test("memory:// is a new database every time", { skip: linuxOnly }, async () => {
    for (const round of [1, 2]) {
      const server = await start({ DATA_DIR: "memory://" });
      assert.equal(created(server).length, 1);
      assertFits(server, "memory://");
      const client = orders(server);
      assert.deepEqual((await client.listOrders({})).orders, [], `round ${round}: nothing from before`);
      await client.createOrder({ name: "Forgotten" });
      let movies = 0;
      for await (const _ of createClient(MovieService, createGrpcTransport({ baseUrl: server.baseUrl })).listMovies({})) movies++;
      assert.equal(movies, 7, "the catalogue is seeded");
      const folder = String(created(server)[0]?.folder);
      assert.ok(existsSync(folder), `memory:// is in a folder of its own: ${folder}`);
      assert.equal(await server.stop(), 0);
      assert.ok(!existsSync(path.dirname(folder)), "its folder is gone once the server has stopped");
    }
  });

  test("the folder of a memory:// server that was killed is removed by the next one", { skip: linuxOnly }, async () => {
    const killed = await start({ DATA_DIR: "memory://" });
    const folder = path.dirname(String(created(killed)[0]?.folder));
    killed.child.kill("SIGKILL");
    await killed.exited;
    assert.ok(existsSync(folder), "nothing removed it yet");
    const next = await start({ DATA_DIR: "memory://" });
    assert.ok(!existsSync(folder), "the next memory:// server removed it");
    const live = path.dirname(String(created(next)[0]?.folder));
    // A live server's folder is left alone.
    const third = await start({ DATA_DIR: "memory://" });
    assert.ok(existsSync(live), "a running server's folder stays");
    assert.equal(await third.stop(), 0);
    assert.equal(await next.stop(), 0);
  });
});
