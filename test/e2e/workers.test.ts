import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as http from "node:http";
import { after, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { openWatch } from "../support/order-watch.js";
import { type ServerProcess, spawnServer } from "../support/process.js";
import { describeUnless } from "../support/skip.js";

test("WORKERS=2 with the embedded database is refused in one line", async () => {
  const server = spawnServer({ WORKERS: "2", DATA_DIR: "memory://" });
  const exit = await server.exited;
  assert.equal(exit.code, 1);
  assert.equal(
    exit.stderr,
    "configuration error: WORKERS=2 needs DATABASE_URL: the embedded database (DATA_DIR) can be opened by one process only; use PostgreSQL or WORKERS=1\n",
  );
});

/** Which worker served a Connect JSON call made on a new connection. */
function callOnNewConnection(port: number, server: ServerProcess, requestId: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/calculator.v1.CalculatorService/Add",
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "x-request-id": requestId },
      },
      (response) => {
        response.resume();
        response.once("end", () => {
          server.waitForLog((record) => record.requestId === requestId).then((record) => resolve(record.worker), reject);
        });
      },
    );
    request.once("error", reject);
    request.end(JSON.stringify({ a: 1, b: 2 }));
  });
}

describeUnless(postgresSkipReason, "WORKERS=2 on PostgreSQL: two worker processes on one port", () => {
  let database: EngineCase | undefined;
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop();
    await database?.cleanup();
  });

  test("both serve, watches see changes made through either, a dead worker is replaced, SIGTERM drains both", async () => {
    database = await postgresCase();
    server = spawnServer({ ...database.env, WORKERS: "2", SHUTDOWN_GRACE_MS: "500" });
    const started = server;
    const port = await started.serving();
    for (const worker of [1, 2]) await started.waitForLog((record) => record.msg.startsWith("serving") && record.worker === worker);
    const workers = new Set<unknown>();
    for (let call = 0; call < 20 && workers.size < 2; call++) workers.add(await callOnNewConnection(port, started, `w-${call}`));
    assert.equal(workers.size, 2, "calls on new connections reach both workers");

    // Watches on separate connections land on both workers; each sees an order created on yet another connection.
    const watches = await Promise.all(
      [0, 1, 2, 3].map(() =>
        openWatch(createClient(OrderService, createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }))),
      ),
    );
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }));
    await orders.createOrder({ name: "Seen by every worker" });
    await Promise.all(watches.map((watch) => watch.changesReach(1)));
    for (const watch of watches) watch.close();

    // A worker that dies is replaced, with a log line.
    process.kill(workerPid(started), "SIGKILL");
    await started.waitForLog((record) => record.msg === "worker died: starting another" && record.signal === "SIGKILL");
    await started.waitForLog((record) => record.msg.startsWith("serving") && record.worker === 3);

    assert.equal(await started.stop(), 0);
    const complete = started.logs.filter((record) => record.msg === "shutdown complete");
    assert.equal(complete.length, 2, "both workers drained");
    assert.ok(started.logs.some((record) => record.msg === "every worker has stopped: shutdown complete"));
  });
});

/** The pid of one of the workers: the children of the primary. */
function workerPid(server: ServerProcess): number {
  const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(server.child.pid)], { encoding: "utf8" })
    .split("\n")
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
  const [first] = children;
  assert.ok(first !== undefined, "the primary has worker processes");
  return first;
}
