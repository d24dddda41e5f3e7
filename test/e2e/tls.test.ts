import assert from "node:assert/strict";
import { after, test } from "node:test";
import * as tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { selfSignedCertificate } from "../support/certificate.js";
import { GrpcJsClient, loadProtos, serviceConstructor } from "../support/grpc-js.js";
import { startTestServer } from "../support/server.js";

// A self-signed certificate made for this run, trusted by the clients below.
const { certFile, keyFile, ca, remove: removeCertificate } = selfSignedCertificate();

const server = await startTestServer({ TLS_CERT: certFile, TLS_KEY: keyFile });
const baseUrl = `https://127.0.0.1:${server.port}`;
const sessionManager = new Http2SessionManager(baseUrl, undefined, { ca });
after(async () => {
  sessionManager.abort();
  await server.shutdown();
  removeCertificate();
});

/** The protocol the server picks during the TLS handshake for what the client offers. */
async function negotiated(offered: string[] | undefined): Promise<string | false> {
  const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca, ALPNProtocols: offered });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  const protocol = socket.alpnProtocol ?? false;
  socket.destroy();
  return protocol;
}

test("ALPN offers h2 and http/1.1 on the same port", async () => {
  assert.equal(
    server.logs.find((record) => record.tls === true)?.msg,
    `serving gRPC, gRPC-Web and Connect on https://127.0.0.1:${server.port}`,
  );
  assert.equal(await negotiated(["h2", "http/1.1"]), "h2");
  assert.equal(await negotiated(["http/1.1"]), "http/1.1");
  assert.equal(await negotiated(undefined), false);
});

test("gRPC over TLS (HTTP/2): unary and server streaming", async () => {
  const greeter = createClient(GreeterService, createGrpcTransport({ baseUrl, sessionManager }));
  assert.equal((await greeter.sayHello({ name: "Ada" })).message, "Hello, Ada!");
  const languages = [];
  for await (const reply of greeter.lotsOfReplies({ name: "Ada" })) languages.push(reply.language);
  assert.equal(languages.length, 7);
  const logged = server.callLogs("/greeter.v1.GreeterService/SayHello").at(-1);
  assert.deepEqual([logged?.protocol, logged?.http], ["grpc", "2.0"]);
});

test("Connect and gRPC-Web over HTTPS/1.1", async () => {
  const connect = createClient(GreeterService, createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca } }));
  assert.equal((await connect.sayHelloAgain({ name: "Ada" })).message, "Hello again, Ada!");
  const logged = server.callLogs("/greeter.v1.GreeterService/SayHelloAgain").at(-1);
  assert.deepEqual([logged?.protocol, logged?.http], ["connect", "1.1"]);

  const grpcWeb = createClient(GreeterService, createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca } }));
  assert.equal((await grpcWeb.sayHello({ name: "なんしー" })).message, "Hello, なんしー!");
});

test("grpc-js with TLS credentials", async () => {
  const Greeter = serviceConstructor(loadProtos(["tutorial/helloworld/helloworld.proto"]), "helloworld.Greeter");
  const client = new GrpcJsClient(Greeter, `127.0.0.1:${server.port}`, grpc.credentials.createSsl(ca));
  after(() => client.close());
  assert.deepEqual(await client.unary("SayHello", { name: "Ada" }), { message: "Hello, Ada!" });
});

test("plain HTTP to the TLS port gets no answer", async () => {
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/greeter.v1.GreeterService/SayHello`, { method: "POST" }));
});
