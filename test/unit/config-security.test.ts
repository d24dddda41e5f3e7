import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, isLoopbackHost, loadConfig } from "../../server/config.js";

const secret = "pV3q9LmZx0RkT7bW2yNc5HsJ8dFg1aQe"; // 32 bytes

function configError(env: Record<string, string>): string {
  let message = "";
  assert.throws(
    () => loadConfig(env, false),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.doesNotMatch(error.message, /\n/, "one line");
      message = error.message;
      return true;
    },
  );
  return message;
}

describe("HOST", () => {
  test("defaults to loopback, IPv4 and IPv6", () => {
    assert.deepEqual(loadConfig({}, false).hosts, ["127.0.0.1", "::1"]);
  });

  test("takes a comma-separated list of addresses or names", () => {
    assert.deepEqual(loadConfig({ HOST: " 127.0.0.1 , ::1 " }, false).hosts, ["127.0.0.1", "::1"]);
    assert.deepEqual(loadConfig({ HOST: "localhost" }, false).hosts, ["localhost"]);
    assert.deepEqual(loadConfig({ HOST: "::", AUTH_MODE: "off" }, false).hosts, ["::"]);
  });

  test("refuses what is neither an address nor a name", () => {
    assert.match(configError({ HOST: "127.0.0.1:8080" }), /^HOST: "127.0.0.1:8080" is not an IP address or host name/);
    assert.match(configError({ HOST: "http://example.com" }), /^HOST: /);
  });

  test("loopback means this machine only", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LOCALHOST"]) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.10", "example.com", "localhost.example.com", "128.0.0.1", "::2"]) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });
});

describe("authentication settings", () => {
  test("off by default on loopback", () => {
    assert.deepEqual(loadConfig({ HOST: "127.0.0.1" }, false).auth, { mode: "off", explicit: false });
    assert.deepEqual(loadConfig({ HOST: "localhost,::1" }, false).auth, { mode: "off", explicit: false });
  });

  test("a bind other machines can reach needs authentication or AUTH_MODE=off", () => {
    for (const host of ["0.0.0.0", "::", "127.0.0.1,192.168.1.10", "example.com"]) {
      const message = configError({ HOST: host });
      assert.match(message, new RegExp(`^HOST=${host.replace(/\./g, "\\.")} can be reached from other machines`));
      assert.match(message, /set AUTH_JWT_SECRET .* or AUTH_JWKS_URL .*, or AUTH_MODE=off/);
    }
    assert.deepEqual(loadConfig({ HOST: "0.0.0.0", AUTH_MODE: "off" }, false).auth, { mode: "off", explicit: true });
    assert.equal(loadConfig({ HOST: "0.0.0.0", AUTH_JWT_SECRET: secret, AUTH_AUDIENCE: "api" }, false).auth.mode, "jwt");
  });

  test("AUTH_MODE=off can be chosen on loopback too, and is then explicit", () => {
    assert.deepEqual(loadConfig({ AUTH_MODE: "OFF" }, false).auth, { mode: "off", explicit: true });
  });

  test("a shared secret shorter than 32 bytes is refused without showing it", () => {
    const message = configError({ AUTH_JWT_SECRET: "too-short-secret" });
    assert.equal(
      message,
      "AUTH_JWT_SECRET is too weak (it is 16 bytes long): it must be at least 32 bytes, using at least 8 different byte values, " +
        "and not a short pattern repeated; make one with: openssl rand -base64 32",
    );
    assert.doesNotMatch(message, /too-short-secret/);
    // Bytes, not characters: 8 three-byte characters and 8 letters are 32 bytes.
    assert.equal(loadConfig({ AUTH_JWT_SECRET: `${"€".repeat(8)}abcdefgh` }, false).auth.mode, "jwt");
    assert.match(configError({ AUTH_JWT_SECRET: secret.slice(1) }), /\(it is 31 bytes long\)/);
  });

  test("a shared secret of 32 bytes that is easy to guess is refused, saying the rule", () => {
    assert.match(configError({ AUTH_JWT_SECRET: "a".repeat(32) }), /^AUTH_JWT_SECRET is too weak \(it uses only 1 different byte value\)/);
    assert.match(configError({ AUTH_JWT_SECRET: "abcd".repeat(10) }), /^AUTH_JWT_SECRET is too weak \(it uses only 4 different/);
    assert.match(
      configError({ AUTH_JWT_SECRET: "correct-horse".repeat(3) }),
      /^AUTH_JWT_SECRET is too weak \(it repeats a pattern of 13 bytes\): .* openssl rand -base64 32$/,
    );
  });

  test("an audience is required with a key set, and with a secret on an address other machines reach", () => {
    assert.equal(
      configError({ AUTH_JWKS_URL: "https://id.example.com/jwks" }).split(":")[0],
      "AUTH_AUDIENCE must be set when tokens come from AUTH_JWKS_URL",
    );
    assert.match(configError({ AUTH_JWKS_URL: "https://id.example.com/jwks", HOST: "127.0.0.1" }), /^AUTH_AUDIENCE must be set/);
    assert.match(
      configError({ AUTH_JWT_SECRET: secret, HOST: "0.0.0.0" }),
      /^AUTH_AUDIENCE must be set when HOST=0\.0\.0\.0 can be reached from other machines and tokens are signed with AUTH_JWT_SECRET: /,
    );
    // A secret on loopback only: the developer's own server, audience optional.
    assert.deepEqual(loadConfig({ AUTH_JWT_SECRET: secret, HOST: "127.0.0.1,::1" }, false).auth.mode, "jwt");
    assert.equal(loadConfig({ AUTH_JWKS_URL: "https://id.example.com/jwks", AUTH_AUDIENCE: "api" }, false).auth.mode, "jwt");
  });

  test("AUTH_MAX_TOKEN_TTL_MS: 24 h unless set", () => {
    const ttl = (env: Record<string, string>) => {
      const { auth } = loadConfig({ AUTH_JWT_SECRET: secret, ...env }, false);
      return auth.mode === "jwt" ? auth.maxTokenTtlMs : undefined;
    };
    assert.equal(ttl({}), 86_400_000);
    assert.equal(ttl({ AUTH_MAX_TOKEN_TTL_MS: "900000" }), 900_000);
    assert.match(configError({ AUTH_JWT_SECRET: secret, AUTH_MAX_TOKEN_TTL_MS: "24h" }), /^AUTH_MAX_TOKEN_TTL_MS must be a whole number/);
  });

  test("a secret with issuer, audience and reads", () => {
    assert.deepEqual(
      loadConfig({ AUTH_JWT_SECRET: secret, AUTH_ISSUER: "me", AUTH_AUDIENCE: "a, b", AUTH_REQUIRE_FOR_READS: "TRUE" }, false).auth,
      {
        mode: "jwt",
        keys: { kind: "secret", secret },
        issuer: "me",
        audience: ["a", "b"],
        maxTokenTtlMs: 86_400_000,
        requireForReads: true,
      },
    );
    assert.deepEqual(loadConfig({ AUTH_JWT_SECRET: secret }, false).auth, {
      mode: "jwt",
      keys: { kind: "secret", secret },
      issuer: undefined,
      audience: [],
      maxTokenTtlMs: 86_400_000,
      requireForReads: false,
    });
  });

  test("a JWKS URL: https anywhere, http only on loopback", () => {
    assert.deepEqual(loadConfig({ AUTH_JWKS_URL: "https://id.example.com/.well-known/jwks.json", AUTH_AUDIENCE: "api" }, false).auth, {
      mode: "jwt",
      keys: { kind: "jwks", url: "https://id.example.com/.well-known/jwks.json", cacheMaxAgeMs: 600_000, cooldownMs: 30_000 },
      issuer: undefined,
      audience: ["api"],
      maxTokenTtlMs: 86_400_000,
      requireForReads: false,
    });
    const local = loadConfig(
      { AUTH_JWKS_URL: "http://127.0.0.1:9000/jwks", AUTH_JWKS_CACHE_MS: "1000", AUTH_JWKS_COOLDOWN_MS: "0", AUTH_AUDIENCE: "api" },
      false,
    );
    assert.deepEqual(local.auth.mode === "jwt" && local.auth.keys, {
      kind: "jwks",
      url: "http://127.0.0.1:9000/jwks",
      cacheMaxAgeMs: 1000,
      cooldownMs: 0,
    });
    assert.equal(loadConfig({ AUTH_JWKS_URL: "http://[::1]:9000/jwks", AUTH_AUDIENCE: "api" }, false).auth.mode, "jwt");
    assert.match(
      configError({ AUTH_JWKS_URL: "http://id.example.com/jwks" }),
      /^AUTH_JWKS_URL must be an https:\/\/ URL \(http:\/\/ only on loopback\)/,
    );
    assert.match(configError({ AUTH_JWKS_URL: "not a url" }), /^AUTH_JWKS_URL must be/);
    assert.match(
      configError({ AUTH_JWKS_URL: "https://id.example.com/", AUTH_JWKS_COOLDOWN_MS: "-1", AUTH_AUDIENCE: "api" }),
      /^AUTH_JWKS_COOLDOWN_MS /,
    );
  });

  test("contradictions and settings without a key source are refused", () => {
    assert.match(configError({ AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: "https://id.example.com/" }), /both set: choose one/);
    assert.equal(
      configError({ AUTH_MODE: "off", AUTH_JWT_SECRET: secret }),
      "AUTH_MODE=off contradicts AUTH_JWT_SECRET: unset one of them",
    );
    assert.equal(configError({ AUTH_MODE: "jwt" }), "AUTH_MODE=jwt needs AUTH_JWT_SECRET or AUTH_JWKS_URL");
    assert.match(configError({ AUTH_MODE: "basic" }), /^AUTH_MODE must be one of jwt, off, got "basic"$/);
    assert.match(configError({ AUTH_ISSUER: "me" }), /^AUTH_ISSUER is set but authentication is off/);
    assert.match(configError({ AUTH_AUDIENCE: "api" }), /^AUTH_AUDIENCE is set but authentication is off/);
    assert.match(configError({ AUTH_REQUIRE_FOR_READS: "true" }), /^AUTH_REQUIRE_FOR_READS is set but authentication is off/);
    assert.match(
      configError({ AUTH_JWT_SECRET: secret, AUTH_REQUIRE_FOR_READS: "yes" }),
      /^AUTH_REQUIRE_FOR_READS must be one of true, false/,
    );
  });
});

describe("rate limits and reflection", () => {
  test("budgets per window, 0 for none", () => {
    assert.deepEqual(loadConfig({ RATE_LIMIT_WRITES: "0", RATE_LIMIT_READS: "10", RATE_LIMIT_WINDOW_MS: "2500" }, false).rateLimit, {
      windowMs: 2500,
      writes: 0,
      reads: 10,
      authFailures: 0,
    });
    assert.match(configError({ RATE_LIMIT_WINDOW_MS: "10" }), /^RATE_LIMIT_WINDOW_MS must be a whole number from 1000 /);
    assert.match(configError({ RATE_LIMIT_WRITES: "many" }), /^RATE_LIMIT_WRITES /);
    assert.match(configError({ RATE_LIMIT_READS: "-5" }), /^RATE_LIMIT_READS /);
  });

  test("no budgets by default on a loopback-only server without authentication; 600 changes and 6000 other calls a minute otherwise", () => {
    assert.deepEqual(loadConfig({}, false).rateLimit, { windowMs: 60_000, writes: 0, reads: 0, authFailures: 0 });
    const reachable = { windowMs: 60_000, writes: 600, reads: 6_000, authFailures: 0 };
    assert.deepEqual(loadConfig({ AUTH_JWT_SECRET: secret }, false).rateLimit, { ...reachable, authFailures: 60 });
    assert.deepEqual(loadConfig({ HOST: "::", AUTH_MODE: "off" }, false).rateLimit, reachable);
    assert.deepEqual(loadConfig({ AUTH_MODE: "off" }, false).rateLimit, reachable, "AUTH_MODE=off says others may call");
    assert.deepEqual(loadConfig({ RATE_LIMIT_WRITES: "5" }, false).rateLimit, { windowMs: 60_000, writes: 5, reads: 0, authFailures: 0 });
  });

  test("failed authentications: 60 per window per address wherever tokens are checked, loopback too; nothing to fail without", () => {
    const failures = (env: Record<string, string>) => loadConfig(env, false).rateLimit.authFailures;
    assert.equal(failures({ AUTH_JWT_SECRET: secret, HOST: "127.0.0.1" }), 60);
    assert.equal(failures({ AUTH_JWT_SECRET: secret, RATE_LIMIT_WRITES: "0", RATE_LIMIT_READS: "0" }), 60, "even with call budgets off");
    assert.equal(failures({ AUTH_JWT_SECRET: secret, RATE_LIMIT_AUTH_FAILURES: "5" }), 5);
    assert.equal(failures({ AUTH_JWT_SECRET: secret, RATE_LIMIT_AUTH_FAILURES: "0" }), 0);
    assert.equal(failures({ AUTH_MODE: "off", RATE_LIMIT_AUTH_FAILURES: "5" }), 0);
    assert.match(
      configError({ AUTH_JWT_SECRET: secret, RATE_LIMIT_AUTH_FAILURES: "x" }),
      /^RATE_LIMIT_AUTH_FAILURES must be a whole number/,
    );
  });

  test("FAST_PATH is on or off, on by default", () => {
    assert.equal(loadConfig({}, false).fastPath, true);
    assert.equal(loadConfig({ FAST_PATH: "off" }, false).fastPath, false);
    assert.equal(loadConfig({ FAST_PATH: "ON" }, false).fastPath, true);
    assert.match(configError({ FAST_PATH: "fast" }), /^FAST_PATH must be one of on, off, got "fast"$/);
  });

  test("REFLECTION is on or off", () => {
    assert.equal(loadConfig({}, false).reflection, true);
    assert.equal(loadConfig({ REFLECTION: "off" }, false).reflection, false);
    assert.match(configError({ REFLECTION: "no" }), /^REFLECTION must be one of on, off, got "no"$/);
  });
});
