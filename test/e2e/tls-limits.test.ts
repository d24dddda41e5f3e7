import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, test } from "node:test";
import { selfSignedCertificate } from "../support/certificate.js";
import { startServerProcess } from "../support/process.js";
import { h2Request } from "../support/raw.js";

// The same guards when the port speaks TLS: the connection limits act on the
// raw TCP connection, before any handshake, and a bad :authority is refused
// with 400, never thrown out of the handler.

const { certFile, keyFile, ca, remove: removeCertificate } = selfSignedCertificate();

const server = await startServerProcess({ TLS_CERT: certFile, TLS_KEY: keyFile, MAX_CONNECTIONS_PER_ADDRESS: "3" });
after(() => {
  server.child.kill("SIGKILL");
  removeCertificate();
});
const baseUrl = `https://127.0.0.1:${server.port}`;

test("connections over MAX_CONNECTIONS_PER_ADDRESS are closed before the handshake; others are served", { timeout: 20_000 }, async () => {
  const sockets = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const socket = net.connect({ port: server.port, host: "127.0.0.1", localAddress: "127.0.0.9" });
      socket.on("error", () => {});
      await once(socket, "connect");
      return socket;
    }),
  );
  after(() => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(sockets.filter((socket) => socket.destroyed || socket.readableEnded).length, 2);
  await server.waitForLog((record) => String(record.msg).includes("MAX_CONNECTIONS_PER_ADDRESS") && record.remoteAddress === "127.0.0.9");

  const session = http2.connect(baseUrl, { ca });
  after(() => session.close());
  const answer = await h2Request(
    session,
    { ":path": "/greeter.v1.GreeterService/SayHello", "content-type": "application/json" },
    Buffer.from('{"name":"Ada"}'),
  );
  assert.equal(answer.headers[":status"], 200);
  assert.equal(server.child.exitCode, null);
});

test("a bad :authority over TLS gets 400, and the process carries on", { timeout: 20_000 }, async () => {
  const session = http2.connect(baseUrl, { ca });
  after(() => session.close());
  const answer = await h2Request(
    session,
    { ":path": "/greeter.v1.GreeterService/SayHello", ":authority": "x:99999", "content-type": "application/json" },
    Buffer.from('{"name":"Ada"}'),
  );
  assert.equal(answer.headers[":status"], 400);
  const ok = await h2Request(
    session,
    { ":path": "/greeter.v1.GreeterService/SayHello", "content-type": "application/json" },
    Buffer.from('{"name":"Ada"}'),
  );
  assert.equal(ok.headers[":status"], 200);
  assert.equal(server.child.exitCode, null);
});
