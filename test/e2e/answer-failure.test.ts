import assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, test } from "node:test";
import { startTestServer, type TestServer } from "../support/server.js";

// Found by the fuzzer (case 419617570:1957): a gRPC-Web JSON request whose
// gzip'd message is not JSON and not UTF-8 made connect-node fail while it
// wrote the error's trailers (encodeURIComponent refused its message), and
// the HTTP/1.1 answer was never ended: the client waited for ever. An answer
// that fails midway now ends its connection.

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.shutdown());

test("an answer that fails while it is written ends, instead of leaving the client waiting", async () => {
  const body = Buffer.from("010000002b1f8b08000000000000" + "03ab562a2dcd4c51b2d2514a492c4955b252fa307f52b3522d003553327d17000000", "hex");
  const started = performance.now();
  const outcome = await new Promise<string>((resolve) => {
    const req = http.request(`${server.baseUrl}/order.OrderService/UpdateOrder`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+json", "x-grpc-web": "1", "grpc-encoding": "gzip" },
    });
    req.on("response", (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(`answered ${res.statusCode}`));
      res.on("error", () => resolve("cut"));
      res.on("aborted", () => resolve("cut"));
    });
    req.on("error", () => resolve("cut"));
    req.end(body);
  });
  assert.ok(performance.now() - started < 3_000, `${outcome} after ${Math.round(performance.now() - started)} ms`);
  // The server goes on serving.
  const ok = await fetch(`${server.baseUrl}/calculator.v1.CalculatorService/SquareRoot`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ number: 16 }),
  });
  assert.deepEqual(await ok.json(), { result: 4 });
});
