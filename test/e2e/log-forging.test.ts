import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { after, test } from "node:test";
import { spawnServer } from "../support/process.js";

// A client's text in a log message (an id quoted in "call failed: id must be
// a UUID, got …") must not be able to add a line that looks like the
// server's own, in the format people read at a terminal.

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  probe.close();
  return port;
}

const port = await freePort();
const server = spawnServer({ LOG_FORMAT: "pretty", PORT: String(port) });
after(() => server.stop());
try {
  await server.waitForLog((record) => record.msg.includes("serving gRPC"), 90_000);
} catch (error) {
  // A failed start must not leave the process behind.
  await server.stop();
  throw error;
}

test("LOG_FORMAT=pretty: an id carrying a line break and a fake log line stays inside one line", { timeout: 10_000 }, async () => {
  const forged = "[12:00:00.000] WARN: forged line";
  const response = await fetch(`http://127.0.0.1:${port}/order.v1.OrderService/GetOrder`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: `x\n${forged}\r\u001b[2K\u0085` }),
  });
  assert.equal(response.status, 400);
  const line = await server.waitForLog((record) => record.msg.includes("forged line"));
  assert.match(
    line.msg,
    /^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: call failed: id must be a UUID, got "x\\n\[12:00:00\.000\] WARN: forged line\\r\\u001b\[2K\\u0085"/,
  );
  assert.equal(
    server.logs.filter((record) => record.msg.startsWith(forged)).length,
    0,
    "no line of the output begins with the forged text",
  );
});
