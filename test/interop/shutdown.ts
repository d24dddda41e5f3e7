import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/health/v1/health_pb.js";
import type { CallCounter, ServerProcess } from "./server-process.js";

/** Runs last: SIGTERM to the server process, watched through grpc.health.v1. */
export function shutdownSuite(server: () => ServerProcess, counter: CallCounter, shutdownGraceMs: number): void {
  describe("graceful shutdown, as health watchers see it", () => {
    test("Watch turns NOT_SERVING at SIGTERM and ends without holding the shutdown; the process exits 0", async () => {
      const health = createClient(Health, createGrpcTransport({ baseUrl: server().baseUrl }));
      const statuses: ServingStatus[] = [];
      let exit: Promise<number | null> | undefined;
      let stopped = 0;
      const ended = await (async () => {
        try {
          for await (const { status } of health.watch({ service: "greeter.v1.GreeterService" })) {
            statuses.push(status);
            if (!exit) {
              stopped = performance.now();
              exit = server().stop();
            }
          }
          return undefined;
        } catch (error) {
          return ConnectError.from(error);
        }
      })();
      counter.add("connect-node clients (matrix)");
      assert.deepEqual(statuses, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
      // The server ends the stream with UNAVAILABLE, and its trailers reach
      // the client before the connection closes: a client that saw the
      // connection cut instead would report CANCELED.
      assert.equal(ended?.code, Code.Unavailable, `the stream ended: ${String(ended)}`);
      assert.equal(await exit, 0);
      assert.ok(performance.now() - stopped < shutdownGraceMs / 2, "the watch did not hold the shutdown for the grace period");
      // Read once the process has exited: the client may see the end before the log line arrives.
      assert.ok(
        server().logs.some(({ procedure, code }) => procedure === "/grpc.health.v1.Health/Watch" && code === "unavailable"),
        "the server ended the watch with UNAVAILABLE",
      );
      assert.ok(server().logs.some(({ msg }) => msg === "shutdown complete"));
      // Whatever the suite sent, nothing was an unexpected failure on the server's side.
      assert.deepEqual(
        server().logs.filter(({ level }) => typeof level === "number" && level >= 50),
        [],
      );
    });
  });
}
