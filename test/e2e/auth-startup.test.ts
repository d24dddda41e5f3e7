import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { decodeJwt } from "jose";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { type StartedServer, spawnServer, startServerProcess } from "../support/process.js";
import { testSecret } from "../support/tokens.js";

// The server and `npm run token` as an operator starts them: own processes,
// only the environment given here.

const running: StartedServer[] = [];
after(async () => {
  for (const server of running) await server.stop();
});

async function start(env: Record<string, string>): Promise<StartedServer> {
  const server = await startServerProcess(env, { inheritEnv: false });
  running.push(server);
  return server;
}

describe("where the server listens, and whether it may run without authentication", () => {
  test("by default on loopback only, IPv4 and IPv6, where no authentication is needed: the quick start works unchanged", async () => {
    // An empty HOST is no HOST: the server's own default.
    const server = await start({ HOST: "" });
    const serving = server.logs.find((record) => record.msg.startsWith("serving"));
    assert.deepEqual(serving?.hosts, ["127.0.0.1", "::1"]);
    assert.match(serving?.msg ?? "", new RegExp(`on http://127\\.0\\.0\\.1:${server.port} and http://\\[::1\\]:${server.port}$`));
    assert.ok(
      server.logs.some((record) => record.level === 30 && /^authentication is off, which is allowed on loopback only/.test(record.msg)),
    );
    assert.ok(!server.logs.some((record) => record.level === 40), "no warning");
    for (const baseUrl of [`http://127.0.0.1:${server.port}`, `http://[::1]:${server.port}`]) {
      const orders = createClient(OrderService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
      assert.ok((await orders.createOrder({ name: "No token needed here" })).order?.id, baseUrl);
    }
    await server.stop();
  });

  test("an address other machines can reach, with no authentication: one line saying what to set, exit 1", async () => {
    for (const host of ["0.0.0.0", "::"]) {
      const { exited, logs } = spawnServer({ HOST: host }, { inheritEnv: false });
      const { code, stderr } = await exited;
      assert.equal(code, 1);
      assert.equal(
        stderr,
        `configuration error: HOST=${host} can be reached from other machines and no authentication is configured: ` +
          "set AUTH_JWT_SECRET (32+ random bytes) or AUTH_JWKS_URL (your identity provider's key set), or AUTH_MODE=off to serve anyway\n",
      );
      assert.equal(logs.length, 0, "nothing else printed");
    }
  });

  test("a shared secret that is too short: one line, exit 1, the secret not shown", async () => {
    const { exited } = spawnServer({ AUTH_JWT_SECRET: "hunter2" }, { inheritEnv: false });
    const { code, stderr } = await exited;
    assert.equal(code, 1);
    assert.equal(
      stderr,
      "configuration error: AUTH_JWT_SECRET is too weak (it is 7 bytes long): it must be at least 32 bytes, using at least 8 " +
        "different byte values, and not a short pattern repeated; make one with: openssl rand -base64 32\n",
    );
  });

  test("a shared secret of 32 identical characters, or a short pattern repeated: one line naming the rule, exit 1", async () => {
    for (const [secret, reason] of [
      ["x".repeat(32), "it uses only 1 different byte value"],
      ["Secret!42".repeat(4), "it repeats a pattern of 9 bytes"],
    ] as const) {
      const { code, stderr } = await spawnServer({ AUTH_JWT_SECRET: secret }, { inheritEnv: false }).exited;
      assert.equal(code, 1);
      assert.equal(
        stderr,
        `configuration error: AUTH_JWT_SECRET is too weak (${reason}): it must be at least 32 bytes, using at least 8 ` +
          "different byte values, and not a short pattern repeated; make one with: openssl rand -base64 32\n",
      );
    }
  });

  test("tokens from a key set without AUTH_AUDIENCE: one line, exit 1 (another application's tokens would pass)", async () => {
    const { code, stderr, output } = await spawnServer(
      { AUTH_JWKS_URL: "https://id.example.test/.well-known/jwks.json" },
      { inheritEnv: false },
    ).exited;
    assert.equal(code, 1);
    assert.match(stderr, /^configuration error: AUTH_AUDIENCE must be set when tokens come from AUTH_JWKS_URL: [^\n]+\n$/);
    assert.equal(output, stderr, "nothing else printed");
  });

  // On loopback only the audience stays optional (test/unit/config-security.test.ts).
  test("a shared secret on an address other machines reach without AUTH_AUDIENCE: one line, exit 1", async () => {
    const { code, stderr } = await spawnServer({ AUTH_JWT_SECRET: testSecret, HOST: "0.0.0.0" }, { inheritEnv: false }).exited;
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^configuration error: AUTH_AUDIENCE must be set when HOST=0\.0\.0\.0 can be reached from other machines and tokens are signed with AUTH_JWT_SECRET: [^\n]+\n$/,
    );
  });

  test("AUTH_MODE=off serves on any address, with a warning that anyone can change data", async () => {
    const server = await start({ HOST: "0.0.0.0", AUTH_MODE: "off" });
    const warning = server.logs.find((record) => record.level === 40);
    assert.equal(warning?.msg, "authentication is off (AUTH_MODE=off): anyone who can reach the port can change data");
    assert.deepEqual(server.logs.find((record) => record.msg.startsWith("serving"))?.hosts, ["0.0.0.0"]);
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    assert.ok((await orders.createOrder({ name: "Unguarded" })).order?.id);
    await server.stop();
  });
});

describe("npm run token", () => {
  const script = fileURLToPath(new URL("../../scripts/token.js", import.meta.url));
  const run = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? "", ...env } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  test("mints a token the server started with the same environment accepts (on any address)", async () => {
    const env = { AUTH_JWT_SECRET: testSecret, AUTH_ISSUER: "https://issuer.test/", AUTH_AUDIENCE: "shop-api" };
    const { code, stdout, stderr } = await run(["--scope", "movies:write  orders:write", "--ttl", "15m", "--sub", "alice"], env);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    const token = stdout.trim();
    assert.equal(stdout, `${token}\n`, "the token alone, so TOKEN=$(npm run --silent token -- …) works");
    const claims = decodeJwt(token);
    assert.equal(claims.sub, "alice");
    assert.equal(claims.scope, "movies:write orders:write");
    assert.equal(claims.iss, "https://issuer.test/");
    assert.deepEqual(claims.aud, ["shop-api"]);
    assert.ok(Math.abs((claims.exp ?? 0) - Date.now() / 1000 - 15 * 60) < 60, "expires in 15 minutes");

    const server = await start({ ...env, HOST: "0.0.0.0" });
    assert.ok(server.logs.some((record) => record.msg === "bearer tokens required for calls that change data"));
    const sessionManager = new Http2SessionManager(server.baseUrl);
    after(() => sessionManager.abort());
    const orders = createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl, sessionManager }));
    assert.equal((await rejection(orders.createOrder({ name: "Anonymous" }))).code, Code.Unauthenticated);
    assert.ok((await orders.createOrder({ name: "Minted" }, { headers: { authorization: `Bearer ${token}` } })).order?.id);
    // The call's log line may reach the test just after its answer does.
    await server.waitForLog((record) => record.principal === "alice" && record.scope === "orders:write");

    // --audience says whom the token is for, whatever AUTH_AUDIENCE says.
    const withAudience = async (audience: string, environment: Record<string, string>) => {
      const minted = await run(["--scope", "orders:write", "--audience", audience], environment);
      assert.equal(minted.code, 0, minted.stderr);
      return minted.stdout.trim();
    };
    const foreign = await withAudience("other-api", env);
    assert.deepEqual(decodeJwt(foreign).aud, ["other-api"]);
    const refused = await rejection(orders.createOrder({ name: "Foreign" }, { headers: { authorization: `Bearer ${foreign}` } }));
    assert.equal(refused.code, Code.Unauthenticated);
    assert.equal(refused.rawMessage, "the bearer token is meant for another audience (aud)");
    const explicit = await withAudience("shop-api", { AUTH_JWT_SECRET: testSecret, AUTH_ISSUER: "https://issuer.test/" });
    assert.ok((await orders.createOrder({ name: "Explicit" }, { headers: { authorization: `Bearer ${explicit}` } })).order?.id);
    await server.stop();
  });

  test("says what is wrong, on one line, exit 1", async () => {
    const noSecret = await run(["--scope", "orders:write"], {});
    assert.equal(noSecret.code, 1);
    assert.match(noSecret.stderr, /^token: set AUTH_JWT_SECRET \(the server's shared secret\) first/);
    const short = await run([], { AUTH_JWT_SECRET: "short" });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /^token: configuration error: AUTH_JWT_SECRET is too weak \(it is 5 bytes long\): [^\n]+\n$/);
    const badTtl = await run(["--ttl", "soon"], { AUTH_JWT_SECRET: testSecret });
    assert.equal(badTtl.code, 1);
    assert.equal(badTtl.stderr, 'token: --ttl must be a time span such as 90s, 15m, 1h or 7d, got "soon"\n');
    const tooLong = await run(["--ttl", "7d"], { AUTH_JWT_SECRET: testSecret });
    assert.equal(tooLong.code, 1);
    assert.equal(tooLong.stderr, "token: --ttl 7d is longer than the server accepts (AUTH_MAX_TOKEN_TTL_MS=86400000)\n");
    assert.equal((await run(["--ttl", "7d"], { AUTH_JWT_SECRET: testSecret, AUTH_MAX_TOKEN_TTL_MS: "604800000" })).code, 0);
    const unknown = await run(["--scopes", "x"], { AUTH_JWT_SECRET: testSecret });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^token: Unknown option '--scopes'.*; usage: npm run --silent token -- --scope/);
  });
});
