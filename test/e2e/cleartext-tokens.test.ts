import assert from "node:assert/strict";
import { test } from "node:test";
import { warnOfCleartextTokens } from "../../server/auth/cleartext-warning.js";
import { loadConfig } from "../../server/config.js";
import { memoryLogger } from "../support/logs.js";
import { startTestServer } from "../support/server.js";
import { authEnv } from "../support/tokens.js";

const warning = /^bearer tokens will travel in clear text: .*TLS_CERT and TLS_KEY.*TRUST_PROXY/;

test("a server reachable from other machines, with tokens and without TLS, warns once at start", { timeout: 30_000 }, async () => {
  const server = await startTestServer({ ...authEnv, HOST: "0.0.0.0" });
  try {
    const lines = server.logs.filter((record) => warning.test(record.msg));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.level, 40);
    assert.deepEqual(lines[0]?.hosts, ["0.0.0.0"]);
  } finally {
    await server.shutdown();
  }
});

test("no warning with TLS, a declared proxy, a loopback-only bind, or without tokens", () => {
  const cases: Array<[string, Record<string, string>]> = [
    ["TLS", { ...authEnv, HOST: "0.0.0.0", TLS_CERT: "cert.pem", TLS_KEY: "key.pem" }],
    ["TRUST_PROXY", { ...authEnv, HOST: "0.0.0.0", TRUST_PROXY: "10.0.0.0/8" }],
    ["loopback", { ...authEnv, HOST: "127.0.0.1,::1,localhost" }],
    ["no authentication", { HOST: "0.0.0.0", AUTH_MODE: "off" }],
  ];
  for (const [name, env] of cases) {
    const { logger, logs } = memoryLogger();
    warnOfCleartextTokens(loadConfig(env, false), logger);
    assert.deepEqual(logs, [], name);
  }
  const { logger, logs } = memoryLogger();
  warnOfCleartextTokens(loadConfig({ ...authEnv, HOST: "127.0.0.1,10.0.0.5" }, false), logger);
  assert.equal(logs.length, 1, "one reachable address among loopback ones is enough");
});
