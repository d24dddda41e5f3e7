import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { withProbes } from "../../server/health/probes.js";
import { HealthRegistry, ServingStatus } from "../../server/health/registry.js";

const registry = new HealthRegistry();
registry.add(["greeter.v1.GreeterService", "movie.v1.MovieService"]);
const server = http.createServer(
  withProbes(registry, (_req, res) => {
    res.writeHead(418);
    res.end("the rest of the app");
  }),
);
server.listen(0, "127.0.0.1");
await once(server, "listening");
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

async function get(path: string, method = "GET") {
  const response = await fetch(`${base}${path}`, { method });
  return { status: response.status, body: await response.text() };
}

test("/readyz follows the registry: 503 with the reason while a service is down, 200 again when it is back", async () => {
  assert.deepEqual(await get("/readyz"), { status: 200, body: "ready\n" });
  registry.set("movie.v1.MovieService", ServingStatus.NOT_SERVING);
  assert.deepEqual(await get("/readyz"), { status: 503, body: "not ready: not serving: movie.v1.MovieService\n" });
  assert.deepEqual(await get("/healthz"), { status: 200, body: "ok\n" }, "alive all the same");
  registry.set("movie.v1.MovieService", ServingStatus.SERVING);
  assert.equal((await get("/readyz")).status, 200);
});

test("other paths and methods go to the app; probes refuse what is not GET or HEAD", async () => {
  assert.deepEqual(await get("/healthz/more"), { status: 418, body: "the rest of the app" });
  assert.deepEqual(await get("/greeter.v1.GreeterService/SayHello", "POST"), { status: 418, body: "the rest of the app" });
  assert.equal((await get("/readyz?verbose=1")).status, 200, "a query string is fine");
  assert.equal((await get("/readyz", "DELETE")).status, 405);
});

test("shutting down: not ready, but alive", async () => {
  registry.shutdown();
  assert.deepEqual(await get("/readyz"), { status: 503, body: "not ready: shutting down\n" });
  assert.equal((await get("/healthz")).status, 200);
});
