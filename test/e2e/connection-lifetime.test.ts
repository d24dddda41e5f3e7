import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { frameType, RawH2Connection } from "../support/h2-frames.js";
import { type RetryStats, retryInterceptor } from "../support/retry.js";
import { startTestServer } from "../support/server.js";

describe("HTTP/2 PING keepalive finds dead peers", async () => {
  const server = await startTestServer({ HTTP2_KEEPALIVE_MS: "150", HTTP2_KEEPALIVE_TIMEOUT_MS: "150", HEADERS_TIMEOUT_MS: "10000" });
  after(() => server.shutdown());

  test("a peer that never answers PING is disconnected; one that answers stays", async () => {
    // Node's client answers every PING by itself.
    const alive = http2.connect(server.baseUrl);
    alive.on("error", () => {});
    const silent = await RawH2Connection.open(server.port);
    try {
      const ping = await silent.waitFor((frame) => frame.type === frameType.ping && (frame.flags & 0x1) === 0);
      assert.ok(ping, "the server sent a PING");
      await Promise.race([silent.closed, sleep(3_000).then(() => assert.fail("the silent peer is still connected after 3 s"))]);
      assert.equal(alive.closed || alive.destroyed, false, "the answering peer is still connected");
      const logged = server.logs.find((record) => record.msg.includes("did not answer a PING"));
      assert.ok(logged, "the close is logged");
    } finally {
      silent.destroy();
      alive.destroy();
    }
  });
});

describe("MAX_CONNECTION_AGE_MS: old connections are asked to go, calls in flight finish", async () => {
  const server = await startTestServer({ MAX_CONNECTION_AGE_MS: "300", MAX_CONNECTION_AGE_GRACE_MS: "700", HTTP2_KEEPALIVE_MS: "0" });
  after(() => server.shutdown());

  test("HTTP/2: GOAWAY after the age, a stream still open is closed after the grace", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => {});
    const started = performance.now();
    // A gRPC WatchOrders call, by hand: an empty request message, then the stream stays open.
    const watch = session.request({
      ":method": "POST",
      ":path": "/order.v1.OrderService/WatchOrders",
      "content-type": "application/grpc",
      te: "trailers",
    });
    watch.on("error", () => {});
    watch.end(Buffer.alloc(5));
    await once(watch, "data");
    await once(session, "goaway");
    const goawayAt = performance.now() - started;
    assert.ok(goawayAt >= 250 && goawayAt < 1_000, `GOAWAY after ${goawayAt} ms`);
    // The watch outlives the GOAWAY, and ends at the grace.
    await once(watch, "close");
    const endedAt = performance.now() - started;
    assert.ok(endedAt >= goawayAt + 600, `the stream ended ${endedAt - goawayAt} ms after GOAWAY`);
    session.destroy();
  });

  test("unary clients reconnect across ages without a failed call (retrying what never left the client, as gRPC does)", async () => {
    const manager = new Http2SessionManager(server.baseUrl);
    const stats: RetryStats = { retried: 0 };
    const calculator = createClient(
      CalculatorService,
      createGrpcTransport({ baseUrl: server.baseUrl, sessionManager: manager, interceptors: [retryInterceptor(stats)] }),
    );
    const until = performance.now() + 1_500;
    let calls = 0;
    for (; performance.now() < until; calls++) {
      assert.equal((await calculator.add({ a: calls, b: 1 })).result, calls + 1);
      await sleep(10);
    }
    manager.abort();
    assert.ok(calls > 20, `${calls} calls`);
    // About five connections in 1.5 s: at most a request or two per GOAWAY was queued in the client and retried.
    assert.ok(stats.retried <= 10, `retried ${stats.retried} attempts`);
  });

  test("HTTP/1.1: answers on a connection past its age say Connection: close", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get(`${server.baseUrl}/healthz`, { agent }, (response) => {
            response.resume();
            response.once("end", () => resolve(response));
          })
          .once("error", reject);
      });
    try {
      assert.equal((await get()).headers.connection, "keep-alive");
      await sleep(450);
      assert.equal((await get()).headers.connection, "close");
    } finally {
      agent.destroy();
    }
  });
});
