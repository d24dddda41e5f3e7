import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { startTestServer } from "../support/server.js";

const sqrt = "/calculator.v1.CalculatorService/SquareRoot";

/** A Connect JSON call with these extra headers; resolves with the HTTP status. */
async function call(baseUrl: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${baseUrl}${sqrt}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ number: 4 }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("TRUST_PROXY: whose X-Forwarded-For counts for logs and rate limits", async () => {
  const budget = { RATE_LIMIT_READS: "2", RATE_LIMIT_WINDOW_MS: "60000" };
  const [trusting, distrusting] = await Promise.all([startTestServer({ ...budget, TRUST_PROXY: "127.0.0.1" }), startTestServer(budget)]);
  after(async () => {
    await Promise.all([trusting.shutdown(), distrusting.shutdown()]);
  });

  test("from a trusted proxy: each forwarded client is logged and has a budget of its own", async () => {
    for (const client of ["203.0.113.1", "203.0.113.2"]) {
      for (let index = 0; index < 2; index++) assert.equal(await call(trusting.baseUrl, { "x-forwarded-for": client }), 200);
      assert.equal(await call(trusting.baseUrl, { "x-forwarded-for": client }), 429, `${client}'s budget is spent`);
    }
    // A client cannot escape its budget by prefixing addresses of its own: the proxy's entry is the right-most.
    assert.equal(await call(trusting.baseUrl, { "x-forwarded-for": "198.51.100.9, 203.0.113.1" }), 429);
    const clients = trusting.callLogs(sqrt).map((record) => record.client);
    assert.deepEqual(clients.slice(0, 3), ["203.0.113.1", "203.0.113.1", "203.0.113.1"]);
    assert.equal(clients[3], "203.0.113.2");
  });

  test("without TRUST_PROXY: X-Forwarded-For is ignored; the peer is the client", async () => {
    assert.equal(await call(distrusting.baseUrl, { "x-forwarded-for": "203.0.113.1" }), 200);
    assert.equal(await call(distrusting.baseUrl, { "x-forwarded-for": "203.0.113.2" }), 200);
    assert.equal(await call(distrusting.baseUrl, { "x-forwarded-for": "203.0.113.3" }), 429, "one budget, the peer's");
    assert.deepEqual(
      distrusting.callLogs(sqrt).map((record) => record.client),
      ["127.0.0.1", "127.0.0.1", "127.0.0.1"],
    );
  });
});
