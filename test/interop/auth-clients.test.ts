import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { selfSignedCertificate } from "../support/certificate.js";
import { GrpcJsClient, grpcFailure, loadProtos, serviceConstructor } from "../support/grpc-js.js";
import type { LogRecord } from "../support/logs.js";
import { authEnv, mintToken } from "../support/tokens.js";
import { repoRoot, type ServerProcess, startInteropServer } from "./server-process.js";

// Third-party gRPC stacks sending bearer tokens the way their users do:
// grpc-js with call credentials, Python grpcio with call metadata (and with
// access-token call credentials). Both need TLS for credentials, as they
// should: the server serves a certificate made for this run.

const python = "/usr/bin/python3";
const { certFile, keyFile, ca, remove: removeCertificate } = selfSignedCertificate();

// HOST left to its default: loopback, IPv4 and IPv6, as "localhost" may be either.
const server: ServerProcess = await startInteropServer({ ...authEnv, TLS_CERT: certFile, TLS_KEY: keyFile, HOST: "" });
after(async () => {
  await server.stop();
  removeCertificate();
});
const target = `localhost:${server.port}`;

describe("grpc-js with call credentials", () => {
  const OrderClient = serviceConstructor(loadProtos(["order/v1/order.proto"]), "order.v1.OrderService");
  const withToken = (token: string) =>
    grpc.credentials.combineChannelCredentials(
      grpc.credentials.createSsl(ca),
      grpc.credentials.createFromMetadataGenerator((_call, callback) => {
        const metadata = new grpc.Metadata();
        metadata.set("authorization", `Bearer ${token}`);
        callback(null, metadata);
      }),
    );
  const clients: GrpcJsClient[] = [];
  const client = (credentials: grpc.ChannelCredentials) => {
    const made = new GrpcJsClient(OrderClient, target, credentials);
    clients.push(made);
    return made;
  };
  after(() => {
    for (const made of clients) made.close();
  });

  test("no token: UNAUTHENTICATED; no scope: PERMISSION_DENIED; the scope: the order is created and deleted", async () => {
    const anonymous = await grpcFailure(client(grpc.credentials.createSsl(ca)).unary("CreateOrder", { name: "grpc-js" }));
    assert.equal(anonymous.code, grpc.status.UNAUTHENTICATED);
    assert.match(anonymous.details, /^CreateOrder changes data: send a bearer token with the scope "orders:write"/);

    const scopeless = await grpcFailure(client(withToken(await mintToken({ scope: "profile" }))).unary("CreateOrder", { name: "grpc-js" }));
    assert.equal(scopeless.code, grpc.status.PERMISSION_DENIED);
    assert.equal(scopeless.details, 'CreateOrder needs the scope "orders:write"; the token\'s scopes are "profile"');

    const clerk = client(withToken(await mintToken({ sub: "grpc-js-clerk", scope: "orders:write" })));
    const created = (await clerk.unary("CreateOrder", { name: "grpc-js order" })).order as { id: string; name: string };
    assert.equal(created.name, "grpc-js order");
    assert.equal(((await clerk.unary("GetOrder", { id: created.id })).order as { id: string }).id, created.id);
    await clerk.unary("DeleteOrder", { id: created.id });
    assert.equal((await grpcFailure(clerk.unary("GetOrder", { id: created.id }))).code, grpc.status.NOT_FOUND);
    // The call's log line may reach the test just after its answer does.
    await server.waitForLog((record) => record.procedure === "/order.v1.OrderService/DeleteOrder" && record.code === "ok");
    const logged = server.logs.filter((record) => record.procedure === "/order.v1.OrderService/DeleteOrder" && record.code === "ok");
    assert.deepEqual(
      logged.map((record) => [record.principal, record.scope]),
      [["grpc-js-clerk", "orders:write"]],
    );
  });
});

describe("Python grpcio with call metadata", async () => {
  const missing = await promisify(execFile)(python, ["-c", "import grpc, grpc_tools"]).then(
    () => undefined,
    () => `${python} cannot import grpc and grpc_tools: install python3-grpcio and python3-grpc-tools`,
  );
  if (missing && process.env.CI === "true") throw new Error(missing);

  test("creates and deletes an order with its token; without one, or without the scope, it is refused", { skip: missing }, async () => {
    const token = await mintToken({ sub: "python-clerk", scope: "orders:write" });
    const scopeless = await mintToken({ sub: "python-reader" });
    const { stdout } = await promisify(execFile)(
      python,
      [join(repoRoot, "test/interop/auth_client.py"), target, certFile, join(repoRoot, "proto/tutorial"), token, scopeless],
      { timeout: 60_000 },
    );
    const outcomes = new Map(
      stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { call: string; ok: boolean; response?: unknown; code?: string; details?: string })
        .map((outcome) => [outcome.call, outcome]),
    );
    const failed = (call: string, code: string, details: RegExp) => {
      const outcome = outcomes.get(call);
      assert.equal(outcome?.ok, false, `${call}: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.code, code, call);
      assert.match(outcome.details ?? "", details, call);
    };
    const answered = (call: string) => {
      const outcome = outcomes.get(call);
      assert.equal(outcome?.ok, true, `${call}: ${JSON.stringify(outcome)}`);
      return outcome.response;
    };
    failed("CreateOrder(no token)", "UNAUTHENTICATED", /send a bearer token with the scope "orders:write"/);
    failed("CreateOrder(no scope)", "PERMISSION_DENIED", /needs the scope "orders:write"; the token has no scopes/);
    assert.match(String(answered("CreateOrder(metadata)")), /^[0-9a-f-]{36}$/);
    // Reads need no token, but the order is its creator's: to anyone else it does not exist.
    failed("ReadOrder(no token)", "NOT_FOUND", /^no order has id [0-9a-f-]{36}$/);
    assert.equal(answered("ReadOrder(metadata)"), "Python order with a token");
    failed("DeleteOrder(no token)", "UNAUTHENTICATED", /DeleteOrder changes data/);
    assert.equal(answered("DeleteOrder(metadata)"), true);
    failed("ReadOrder(deleted)", "NOT_FOUND", /./);
    assert.match(String(answered("CreateOrder(call credentials)")), /^[0-9a-f-]{36}$/);
    assert.equal(answered("DeleteOrder(call credentials)"), true);
    assert.equal(outcomes.size, 10, "every call the script makes is checked here");
    const deleted = (record: LogRecord) => record.procedure === "/order.OrderService/DeleteOrder" && record.code === "ok";
    // Both calls' log lines may reach the test just after the script ends.
    await server.waitForLog(() => server.logs.filter(deleted).length >= 2);
    const deletions = server.logs.filter(deleted);
    assert.deepEqual(
      deletions.map((record) => record.principal),
      ["python-clerk", "python-clerk"],
    );
  });
});
