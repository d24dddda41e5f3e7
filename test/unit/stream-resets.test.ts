import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { limitStreamResets, resetStream, StreamResetFlood } from "../../server/transport/stream-resets.js";

// The rapid-reset limit counts the client's resets only: streams the server
// itself cuts mid-answer (a fault of ours) must never close an honest
// client's connection, while the same number of client resets does.

const limit = { perSecond: 1, burst: 1 };

/** A server whose streams answer halfway, then are reset by the server (`/server`) or left for the client to reset. */
async function serverWithLimit(): Promise<{ url: string; floods: number[]; close(): void }> {
  const floods: number[] = [];
  const server = http2.createServer();
  server.on("session", (session) => {
    limitStreamResets(session, limit, (resets) => floods.push(resets));
    session.on("error", (error) => assert.ok(error instanceof StreamResetFlood));
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    stream.respond({ ":status": 200 });
    stream.write("half an answer");
    if (headers[":path"] === "/server") setImmediate(() => resetStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, floods, close: () => server.close() };
}

/** Opens a stream and waits for it to close, resetting it from the client once the answer has begun if `clientResets`. */
function stream(session: http2.ClientHttp2Session, path: string, clientResets: boolean): Promise<number | undefined> {
  return new Promise((resolve) => {
    // A request still being sent, as a client-streaming call's is.
    const request = session.request({ ":method": "POST", ":path": path }, { endStream: false });
    request.on("error", () => {});
    request.once("data", () => {
      if (clientResets) request.close(http2.constants.NGHTTP2_CANCEL);
    });
    request.on("close", () => resolve(request.rstCode));
  });
}

test("streams the server resets mid-answer are not counted against the client", async () => {
  const server = await serverWithLimit();
  const session = http2.connect(server.url);
  session.on("error", () => {});
  try {
    for (let i = 0; i < 10; i++) await stream(session, "/server", false);
    assert.deepEqual(server.floods, []);
    assert.equal(session.destroyed, false, "the connection is still open");
  } finally {
    session.destroy();
    server.close();
  }
});

test("the same number of client resets trips the limit", async () => {
  const server = await serverWithLimit();
  const session = http2.connect(server.url);
  session.on("error", () => {});
  try {
    for (let i = 0; i < 10 && !session.destroyed; i++) await stream(session, "/client", true);
    assert.ok(server.floods.length === 1, `the limit tripped once: ${JSON.stringify(server.floods)}`);
  } finally {
    session.destroy();
    server.close();
  }
});
