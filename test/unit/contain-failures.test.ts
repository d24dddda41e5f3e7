import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { containFailures } from "../../server/transport/contain-failures.js";
import type { RequestHandler } from "../../server/transport/http-handler.js";
import { memoryLogger } from "../support/logs.js";
import { h2Request } from "../support/raw.js";

// A handler that fails must fail only its own request: it throws, or its
// promise rejects, and the client gets an answer while the process (this
// test process: an uncaught exception would end it) carries on.

const { logger, logs } = memoryLogger();

/** What each path does; "/ok" answers normally. */
const handler = ((req, res) => {
  switch (req.url) {
    case "/throws":
      throw new TypeError("Invalid URL");
    case "/rejects":
      return Promise.reject(new Error("the handler's promise rejected"));
    case "/throws-after-headers":
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("half an answer");
      throw new Error("failed halfway");
    default:
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
  }
}) as RequestHandler;

const h1 = http.createServer(containFailures(handler, logger));
h1.listen(0, "127.0.0.1");
await once(h1, "listening");
const h2 = http2.createServer(containFailures(handler, logger));
h2.listen(0, "127.0.0.1");
await once(h2, "listening");
const h1Url = `http://127.0.0.1:${(h1.address() as AddressInfo).port}`;
const h2Url = `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
const session = http2.connect(h2Url);
after(() => {
  session.close();
  h1.close();
  h2.close();
});

function errorLogFor(path: string) {
  return logs.find((record) => record.level === 50 && record.path === path);
}

describe("HTTP/1.1", () => {
  for (const path of ["/throws", "/rejects"]) {
    test(`${path}: 500 with an error body, logged at error level`, async () => {
      const response = await fetch(`${h1Url}${path}`, { headers: { "x-request-id": `req-${path.slice(1)}` } });
      assert.equal(response.status, 500);
      assert.deepEqual(await response.json(), { code: "internal", message: "internal error" });
      const line = errorLogFor(path);
      assert.ok(line, "logged");
      assert.equal(line.msg, "request failed with an unexpected error");
      assert.equal(line.requestId, `req-${path.slice(1)}`);
      assert.equal((await fetch(`${h1Url}/ok`)).status, 200);
    });
  }

  test("a failure after the answer started cuts the connection", async () => {
    await assert.rejects(async () => {
      const response = await fetch(`${h1Url}/throws-after-headers`);
      await response.text();
    });
    assert.ok(errorLogFor("/throws-after-headers"));
    assert.equal((await fetch(`${h1Url}/ok`)).status, 200);
  });
});

describe("HTTP/2", () => {
  test("a gRPC request gets INTERNAL", async () => {
    const answer = await h2Request(session, { ":path": "/throws", "content-type": "application/grpc", te: "trailers" }, new Uint8Array());
    assert.equal(answer.headers[":status"], 500);
    assert.equal(answer.headers["grpc-status"], "13");
  });

  test("a rejected promise: 500", async () => {
    const answer = await h2Request(session, { ":path": "/rejects", "content-type": "application/json" }, new Uint8Array());
    assert.equal(answer.headers[":status"], 500);
  });

  test("a failure after the answer started resets the stream, not the connection", async () => {
    const stream = session.request({ ":path": "/throws-after-headers" });
    stream.on("error", () => {});
    stream.resume();
    await new Promise((resolve) => stream.once("close", resolve));
    assert.equal(stream.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR);
    const ok = await h2Request(session, { ":path": "/ok" }, new Uint8Array());
    assert.equal(ok.headers[":status"], 200);
  });
});
