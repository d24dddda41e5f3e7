import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { lstat, writeFile } from "node:fs/promises";
import { after, describe, test } from "node:test";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { sqliteMigrations as migrations } from "../../server/storage/migrations/sqlite.js";
import { rejection } from "../support/assert.js";
import { sqliteCase } from "../support/database.js";
import { spawnServer } from "../support/process.js";
import { startTestServer } from "../support/server.js";

async function movieTitles(transport: Transport): Promise<string[]> {
  const titles: string[] = [];
  for await (const { movie } of createClient(MovieService, transport).listMovies({})) titles.push(movie?.title ?? "");
  return titles;
}

describe("the embedded database across restarts", () => {
  const data = sqliteCase();
  after(async () => (await data).cleanup());

  test("orders and changes survive a restart, and the catalogue is not seeded again", async () => {
    const { env } = await data;

    const first = await startTestServer(env);
    const firstTransport = createGrpcTransport({ baseUrl: first.baseUrl });
    const movies = createClient(MovieService, firstTransport);
    const kept = (
      await createClient(OrderService, firstTransport).createOrder({
        name: "Kept across restarts",
        completed: true,
        idempotencyKey: "restart-1",
      })
    ).order;
    assert.ok(kept);
    await movies.updateMovie({ id: "267eedb8-0f5d-42d5-8f43-72426b9fb3e6", rating: 9.1 });
    assert.equal((await movieTitles(firstTransport)).length, 7);
    const seededMigrations = first.logs.filter((record) => record.msg === "applied database migration").length;
    assert.equal(seededMigrations, Object.keys(migrations).length);
    await first.shutdown();

    const second = await startTestServer(env);
    const secondTransport = createGrpcTransport({ baseUrl: second.baseUrl });
    const orders = createClient(OrderService, secondTransport);
    assert.deepEqual((await orders.getOrder({ id: kept.id })).order, kept);
    const retried = (await orders.createOrder({ name: "Kept across restarts", completed: true, idempotencyKey: "restart-1" })).order;
    assert.equal(retried?.id, kept.id, "idempotency keys are remembered across restarts");
    assert.equal(
      (await createClient(MovieService, secondTransport).getMovie({ id: "267eedb8-0f5d-42d5-8f43-72426b9fb3e6" })).movie?.rating,
      9.1,
    );
    assert.equal(second.logs.filter((record) => record.msg === "applied database migration").length, 0, "no migration runs twice");

    // Deleting every movie sticks: the seed ran once, on the first start.
    const secondMovies = createClient(MovieService, secondTransport);
    for await (const { movie } of secondMovies.listMovies({})) if (movie) await secondMovies.deleteMovie({ id: movie.id });
    await second.shutdown();

    const third = await startTestServer(env);
    const thirdTransport = createGrpcTransport({ baseUrl: third.baseUrl });
    assert.deepEqual(await movieTitles(thirdTransport), []);
    assert.equal(
      (await rejection(createClient(MovieService, thirdTransport).getMovie({ id: "267eedb8-0f5d-42d5-8f43-72426b9fb3e6" }))).code,
      Code.NotFound,
    );
    await third.shutdown();
  });

  test("a second server process cannot open a data folder in use, and says who holds it", async () => {
    const { env } = await data;
    const holder = spawnServer({ ...env, SHUTDOWN_GRACE_MS: "500" });
    try {
      const port = await holder.serving();
      const served = await createClient(OrderService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })).listOrders({});
      assert.equal(served.orders[0]?.name, "Kept across restarts");
      const { code, output } = await spawnServer(env).exited;
      assert.equal(code, 1);
      assert.match(output, new RegExp(`data folder .* is in use by process ${holder.child.pid}`));
    } finally {
      assert.equal(await holder.stop(), 0);
    }
    // Once the holder has stopped, the folder opens again.
    const next = spawnServer({ ...env, SHUTDOWN_GRACE_MS: "500" });
    const port = await next.serving();
    const orders = await createClient(OrderService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })).listOrders({});
    assert.equal(orders.orders.length, 1);
    assert.equal(await next.stop(), 0);
  });

  test("a server killed with SIGKILL does not keep the next one out, nor does an old lock file whose PID now belongs to another process", async () => {
    const { env } = await data;
    const dataDir = env.DATA_DIR ?? "";
    const crashed = spawnServer({ ...env, SHUTDOWN_GRACE_MS: "500" });
    await crashed.serving();
    crashed.child.kill("SIGKILL");
    assert.equal((await crashed.exited).signal, "SIGKILL");
    assert.ok((await lstat(`${dataDir}.lock`)).isSocket(), "the crashed server left its lock behind");

    const afterCrash = spawnServer({ ...env, SHUTDOWN_GRACE_MS: "500" });
    const port = await afterCrash.serving();
    const orders = await createClient(OrderService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })).listOrders({});
    assert.equal(orders.orders[0]?.name, "Kept across restarts", "the data survived the crash");
    assert.equal(await afterCrash.stop(), 0);

    // What the previous lock left after a crash: a file with a PID, here
    // that of a live process that has nothing to do with the server (as
    // when a container's PID 1 is reused).
    const bystander = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      await writeFile(`${dataDir}.lock`, String(bystander.pid));
      const afterUpgrade = spawnServer({ ...env, SHUTDOWN_GRACE_MS: "500" });
      await afterUpgrade.serving();
      assert.equal(await afterUpgrade.stop(), 0);
      assert.equal(bystander.exitCode, null);
    } finally {
      bystander.kill("SIGKILL");
    }
  });
});
