import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.js";

function assertConfigError(env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => loadConfig(env, false),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/, "one line");
      return true;
    },
  );
}

describe("loadConfig", () => {
  test("defaults when the environment says nothing", () => {
    assert.deepEqual(loadConfig({}, false), {
      port: 8080,
      hosts: ["127.0.0.1", "::1"],
      tls: undefined,
      readMaxBytes: 4 * 1024 * 1024,
      uploads: { totalBytes: 64 * 1024 * 1024, perConnectionBytes: 8 * 1024 * 1024, perAddressBytes: 16 * 1024 * 1024, timeoutMs: 30_000 },
      compressMinBytes: 1024,
      maxTimeoutMs: 300_000,
      http2MaxConcurrentStreams: 250,
      idleTimeoutMs: 120_000,
      headersTimeoutMs: 10_000,
      shutdownGraceMs: 10_000,
      logLevel: "info",
      logFormat: "json",
      allowedOrigins: [],
      allowedHosts: [],
      database: { engine: "sqlite", dataDir: ".data", synchronous: "full" },
      watchBufferLimit: 1_000,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 1_000,
      http2MaxResetsPerSecond: 200,
      maxHeaderBytes: 16_384,
      abuseCooldownMs: 10_000,
      auth: { mode: "off", explicit: false },
      rateLimit: { windowMs: 60_000, writes: 0, reads: 0, authFailures: 0 },
      streamLimits: { perCaller: 100, perConnection: 100, maxMessages: 1_000, maxWatchMs: 1_800_000 },
      reflection: true,
      fastPath: true,
      heapProfile: "small",
      metrics: { enabled: true, port: undefined, hosts: ["127.0.0.1"] },
      tracing: undefined,
      trustProxy: [],
      http2KeepaliveMs: 60_000,
      http2KeepaliveTimeoutMs: 20_000,
      maxConnectionAgeMs: 0,
      maxConnectionAgeGraceMs: 30_000,
      tcpKeepaliveMs: 60_000,
      workers: 1,
    });
  });

  test("pretty logs at a terminal, JSON otherwise, unless LOG_FORMAT says", () => {
    assert.equal(loadConfig({}, true).logFormat, "pretty");
    assert.equal(loadConfig({ LOG_FORMAT: "json" }, true).logFormat, "json");
    assert.equal(loadConfig({ LOG_FORMAT: "PRETTY" }, false).logFormat, "pretty");
  });

  test("reads every variable", () => {
    const config = loadConfig(
      {
        PORT: "0",
        HOST: "127.0.0.1",
        TLS_CERT: "cert.pem",
        TLS_KEY: "key.pem",
        READ_MAX_BYTES: "1024",
        UPLOAD_BUFFER_BYTES: "1048576",
        UPLOAD_BUFFER_BYTES_PER_CONNECTION: "131072",
        UPLOAD_BUFFER_BYTES_PER_ADDRESS: "262144",
        UPLOAD_TIMEOUT_MS: "5000",
        COMPRESS_MIN_BYTES: "0",
        MAX_TIMEOUT_MS: "1000",
        HTTP2_MAX_CONCURRENT_STREAMS: "10",
        IDLE_TIMEOUT_MS: "2000",
        HEADERS_TIMEOUT_MS: "300",
        SHUTDOWN_GRACE_MS: "0",
        LOG_LEVEL: "debug",
        LOG_FORMAT: "json",
        ALLOWED_ORIGINS: "https://app.example.com",
        ALLOWED_HOSTS: "api.example.com,*.example.org",
        DATABASE_URL: "postgres://app@db.internal:5432/shop",
        DATABASE_POOL_SIZE: "4",
        DATABASE_STARTUP_TIMEOUT_MS: "500",
        WATCH_BUFFER_LIMIT: "20",
        MAX_CONNECTIONS: "100",
        MAX_CONNECTIONS_PER_ADDRESS: "10",
        HTTP2_MAX_RESETS_PER_SECOND: "50",
        MAX_HEADER_BYTES: "8192",
        ABUSE_COOLDOWN_MS: "0",
        AUTH_JWT_SECRET: "h7Qm2vXc9LpT4wZr8NbK1sYd6FgJ3aUe",
        AUTH_ISSUER: "https://issuer.example.com/",
        AUTH_AUDIENCE: "shop-api",
        AUTH_REQUIRE_FOR_READS: "true",
        AUTH_MAX_TOKEN_TTL_MS: "3600000",
        RATE_LIMIT_WINDOW_MS: "1000",
        RATE_LIMIT_AUTH_FAILURES: "7",
        RATE_LIMIT_WRITES: "5",
        RATE_LIMIT_READS: "0",
        MAX_STREAMS_PER_CALLER: "20",
        MAX_STREAMS_PER_CONNECTION: "10",
        MAX_STREAM_MESSAGES: "50",
        MAX_WATCH_MS: "60000",
        REFLECTION: "off",
        FAST_PATH: "off",
        HEAP_PROFILE: "fast",
        METRICS_PORT: "9464",
        TRUST_PROXY: "10.0.0.0/8,fd00::/8",
        HTTP2_KEEPALIVE_MS: "5000",
        HTTP2_KEEPALIVE_TIMEOUT_MS: "1000",
        MAX_CONNECTION_AGE_MS: "300000",
        MAX_CONNECTION_AGE_GRACE_MS: "15000",
        TCP_KEEPALIVE_MS: "0",
      },
      false,
    );
    assert.deepEqual(config, {
      port: 0,
      hosts: ["127.0.0.1"],
      tls: { certFile: "cert.pem", keyFile: "key.pem" },
      readMaxBytes: 1024,
      uploads: { totalBytes: 1024 * 1024, perConnectionBytes: 128 * 1024, perAddressBytes: 256 * 1024, timeoutMs: 5_000 },
      compressMinBytes: 0,
      maxTimeoutMs: 1000,
      http2MaxConcurrentStreams: 10,
      idleTimeoutMs: 2000,
      headersTimeoutMs: 300,
      shutdownGraceMs: 0,
      logLevel: "debug",
      logFormat: "json",
      allowedOrigins: ["https://app.example.com"],
      allowedHosts: ["api.example.com", "*.example.org"],
      database: { engine: "postgres", url: "postgres://app@db.internal:5432/shop", poolSize: 4, startupTimeoutMs: 500 },
      watchBufferLimit: 20,
      maxConnections: 100,
      maxConnectionsPerAddress: 10,
      http2MaxResetsPerSecond: 50,
      maxHeaderBytes: 8192,
      abuseCooldownMs: 0,
      auth: {
        mode: "jwt",
        keys: { kind: "secret", secret: "h7Qm2vXc9LpT4wZr8NbK1sYd6FgJ3aUe" },
        issuer: "https://issuer.example.com/",
        audience: ["shop-api"],
        maxTokenTtlMs: 3_600_000,
        requireForReads: true,
      },
      rateLimit: { windowMs: 1000, writes: 5, reads: 0, authFailures: 7 },
      streamLimits: { perCaller: 20, perConnection: 10, maxMessages: 50, maxWatchMs: 60_000 },
      reflection: false,
      fastPath: false,
      heapProfile: "fast",
      metrics: { enabled: true, port: 9464, hosts: ["127.0.0.1"] },
      tracing: undefined,
      trustProxy: ["10.0.0.0/8", "fd00::/8"],
      http2KeepaliveMs: 5_000,
      http2KeepaliveTimeoutMs: 1_000,
      maxConnectionAgeMs: 300_000,
      maxConnectionAgeGraceMs: 15_000,
      tcpKeepaliveMs: 0,
      workers: 1,
    });
  });

  test("ignores surrounding blanks and treats an empty value as unset", () => {
    assert.equal(loadConfig({ PORT: " 9090 " }, false).port, 9090);
    assert.equal(loadConfig({ PORT: "", HOST: "  " }, false).port, 8080);
    assert.deepEqual(loadConfig({ HOST: "  " }, false).hosts, ["127.0.0.1", "::1"]);
  });

  test("a bad number names the variable, the range and the value", () => {
    assertConfigError({ PORT: "abc" }, /^PORT must be a whole number from 0 to 65535, got "abc"$/);
    assertConfigError({ PORT: "65536" }, /^PORT .*got "65536"$/);
    assertConfigError({ PORT: "-1" }, /^PORT /);
    assertConfigError({ PORT: "80.5" }, /^PORT /);
    assertConfigError({ PORT: "1e3" }, /^PORT /);
    assertConfigError({ READ_MAX_BYTES: "10" }, /^READ_MAX_BYTES must be a whole number from 1024 /);
    assertConfigError({ MAX_TIMEOUT_MS: "0" }, /^MAX_TIMEOUT_MS /);
    assertConfigError({ HTTP2_MAX_CONCURRENT_STREAMS: "0" }, /^HTTP2_MAX_CONCURRENT_STREAMS /);
    assertConfigError({ IDLE_TIMEOUT_MS: "5" }, /^IDLE_TIMEOUT_MS /);
    assertConfigError({ HEADERS_TIMEOUT_MS: "99999999" }, /^HEADERS_TIMEOUT_MS /);
    assertConfigError({ SHUTDOWN_GRACE_MS: "soon" }, /^SHUTDOWN_GRACE_MS /);
  });

  test("a bad choice lists the allowed values", () => {
    assertConfigError({ LOG_LEVEL: "verbose" }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/);
    assertConfigError({ LOG_FORMAT: "xml" }, /^LOG_FORMAT must be one of pretty, json/);
  });

  test("the heap is small with the embedded database and fast with PostgreSQL, unless HEAP_PROFILE says", () => {
    assert.equal(loadConfig({}, false).heapProfile, "small");
    assert.equal(loadConfig({ DATABASE_URL: "postgres://app@db:5432/shop" }, false).heapProfile, "fast");
    assert.equal(loadConfig({ HEAP_PROFILE: "fast" }, false).heapProfile, "fast");
    assert.equal(loadConfig({ DATABASE_URL: "postgres://app@db:5432/shop", HEAP_PROFILE: "small" }, false).heapProfile, "small");
    assertConfigError({ HEAP_PROFILE: "tiny" }, /^HEAP_PROFILE must be one of small, fast, got "tiny"$/);
  });

  test("TLS needs both files", () => {
    assertConfigError({ TLS_CERT: "cert.pem" }, /TLS_CERT and TLS_KEY must be set together/);
    assertConfigError({ TLS_KEY: "key.pem" }, /TLS_CERT and TLS_KEY must be set together/);
  });
});
