import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import { test } from "node:test";
import { envelope } from "../support/raw.js";
import { startTestServer } from "../support/server.js";

// What each kind of connection sees when the server starts draining; the
// process-level story (signals, exit codes) is in process.test.ts.

/** A Connect streaming envelope holding one JSON message. */
const jsonEnvelope = (json: string) => envelope(Buffer.from(json));

function chunk(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n")]);
}

/** Everything a raw socket receives until the server closes it. */
async function readUntilClosed(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on("data", (data: Buffer) => chunks.push(data));
  await once(socket, "close");
  return Buffer.concat(chunks).toString("utf8");
}

test("HTTP/1.1: idle keep-alive connections close at once, a call in progress finishes with Connection: close", async () => {
  const server = await startTestServer({ SHUTDOWN_GRACE_MS: "5000" });

  const idle = net.connect(server.port, "127.0.0.1");
  idle.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  await once(idle, "data");
  const idleClosed = once(idle, "close");

  // A client-streaming call whose request body is still open: its answer is not written yet.
  const busy = net.connect(server.port, "127.0.0.1");
  busy.write(
    "POST /greeter.v1.GreeterService/LotsOfGreetings HTTP/1.1\r\nHost: localhost\r\n" +
      "Content-Type: application/connect+json\r\nTransfer-Encoding: chunked\r\n\r\n",
  );
  busy.write(chunk(jsonEnvelope('{"name":"Ada"}')));
  const busyAnswer = readUntilClosed(busy);
  await new Promise((resolve) => setTimeout(resolve, 100));

  const shutdownStarted = performance.now();
  const shutdown = server.shutdown();
  await idleClosed;
  assert.ok(performance.now() - shutdownStarted < 500, "the idle connection is closed without waiting");

  busy.write(chunk(jsonEnvelope('{"name":"Bob"}')));
  busy.write("0\r\n\r\n");
  const answer = await busyAnswer;
  assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(answer, /\r\nConnection: close\r\n/i);
  assert.match(answer, /"message":"Hello, Ada and Bob!","count":2/);

  await shutdown;
  assert.ok(performance.now() - shutdownStarted < 2_000, "shutdown ends once the call is done, not after the grace period");
  assert.equal(server.callLogs("/greeter.v1.GreeterService/LotsOfGreetings").at(-1)?.code, "ok");
});

test("HTTP/2: GOAWAY at once, the stream in flight completes on the same connection", async () => {
  const server = await startTestServer({ SHUTDOWN_GRACE_MS: "5000" });
  const session = http2.connect(server.baseUrl);
  const goaway = once(session, "goaway");
  const stream = session.request({
    ":method": "POST",
    ":path": "/greeter.v1.GreeterService/LotsOfReplies",
    "content-type": "application/connect+json",
  });
  stream.end(jsonEnvelope('{"name":"Ada","delayMs":100}'));
  const chunks: Buffer[] = [];
  stream.on("data", (data: Buffer) => chunks.push(data));
  await once(stream, "data");

  const shutdown = server.shutdown();
  await goaway;
  await once(stream, "close");
  const body = Buffer.concat(chunks).toString("utf8");
  assert.match(body, /"language":"ru"/, "all seven greetings arrived");
  const endOfStream = envelope(Buffer.from("{}"), 0x02).toString("utf8");
  assert.equal(body.slice(-endOfStream.length), endOfStream, "ended with Connect's end-of-stream envelope, no error");
  await shutdown;
  session.destroy();
});
