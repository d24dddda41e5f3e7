import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.js";

// The abuse limits' settings: each checked at start, a bad one named in one line.

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env, false);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/, "one line");
    return error.message;
  }
  return assert.fail(`accepted ${JSON.stringify(env)}`);
}

test("limits must be whole numbers in range, and the message names the variable, the range and the value", () => {
  assert.equal(configError({ MAX_CONNECTIONS: "0" }), 'MAX_CONNECTIONS must be a whole number from 1 to 1000000, got "0"');
  assert.equal(configError({ MAX_CONNECTIONS: "lots" }), 'MAX_CONNECTIONS must be a whole number from 1 to 1000000, got "lots"');
  assert.equal(
    configError({ MAX_CONNECTIONS_PER_ADDRESS: "-5" }),
    'MAX_CONNECTIONS_PER_ADDRESS must be a whole number from 1 to 1000000, got "-5"',
  );
  assert.equal(
    configError({ HTTP2_MAX_RESETS_PER_SECOND: "0" }),
    'HTTP2_MAX_RESETS_PER_SECOND must be a whole number from 1 to 1000000, got "0"',
  );
  assert.equal(configError({ MAX_HEADER_BYTES: "100" }), 'MAX_HEADER_BYTES must be a whole number from 1024 to 1048576, got "100"');
  assert.equal(configError({ MAX_HEADER_BYTES: "16k" }), 'MAX_HEADER_BYTES must be a whole number from 1024 to 1048576, got "16k"');
  assert.equal(configError({ ABUSE_COOLDOWN_MS: "1.5" }), 'ABUSE_COOLDOWN_MS must be a whole number from 0 to 3600000, got "1.5"');
});

test("the smallest and largest values are accepted; 0 turns the cool-down off", () => {
  const low = loadConfig(
    {
      MAX_CONNECTIONS: "1",
      MAX_CONNECTIONS_PER_ADDRESS: "1",
      HTTP2_MAX_RESETS_PER_SECOND: "1",
      MAX_HEADER_BYTES: "1024",
      ABUSE_COOLDOWN_MS: "0",
    },
    false,
  );
  assert.deepEqual(
    [low.maxConnections, low.maxConnectionsPerAddress, low.http2MaxResetsPerSecond, low.maxHeaderBytes, low.abuseCooldownMs],
    [1, 1, 1, 1024, 0],
  );
  const high = loadConfig({ MAX_CONNECTIONS: "1000000", MAX_HEADER_BYTES: "1048576", ABUSE_COOLDOWN_MS: "3600000" }, false);
  assert.deepEqual([high.maxConnections, high.maxHeaderBytes, high.abuseCooldownMs], [1_000_000, 1_048_576, 3_600_000]);
});

test("stream limits are on by default, loopback without authentication included", () => {
  assert.deepEqual(loadConfig({}, false).streamLimits, { perCaller: 100, perConnection: 100, maxMessages: 1_000, maxWatchMs: 1_800_000 });
  assert.deepEqual(
    loadConfig({ MAX_STREAMS_PER_CALLER: "5", MAX_STREAMS_PER_CONNECTION: "8", MAX_STREAM_MESSAGES: "1", MAX_WATCH_MS: "1000" }, false)
      .streamLimits,
    { perCaller: 5, perConnection: 8, maxMessages: 1, maxWatchMs: 1_000 },
  );
});

test("the per-connection stream cap defaults to at most HTTP/2's stream limit, and may not exceed it", () => {
  assert.equal(loadConfig({ HTTP2_MAX_CONCURRENT_STREAMS: "10" }, false).streamLimits.perConnection, 10);
  assert.equal(
    configError({ HTTP2_MAX_CONCURRENT_STREAMS: "10", MAX_STREAMS_PER_CONNECTION: "11" }),
    "MAX_STREAMS_PER_CONNECTION=11 is more than HTTP2_MAX_CONCURRENT_STREAMS=10, so it could never apply: lower it or raise HTTP2_MAX_CONCURRENT_STREAMS",
  );
  assert.equal(configError({ MAX_STREAMS_PER_CALLER: "0" }), 'MAX_STREAMS_PER_CALLER must be a whole number from 1 to 1000000, got "0"');
  assert.equal(configError({ MAX_WATCH_MS: "10" }), 'MAX_WATCH_MS must be a whole number from 1000 to 604800000, got "10"');
});

test("the upload budget must hold one message of the largest size on a connection, a connection's share in an address's, and that in all", () => {
  const defaults = loadConfig({}, false).uploads;
  assert.deepEqual(defaults, {
    totalBytes: 64 * 2 ** 20,
    perConnectionBytes: 8 * 2 ** 20,
    perAddressBytes: 16 * 2 ** 20,
    timeoutMs: 30_000,
  });
  assert.equal(
    configError({ READ_MAX_BYTES: String(8 * 2 ** 20) }),
    "UPLOAD_BUFFER_BYTES_PER_CONNECTION=8388608 is less than READ_MAX_BYTES=8388608 plus 64 KiB, so a message of the largest size could never arrive: raise it or lower READ_MAX_BYTES",
  );
  assert.equal(
    configError({ UPLOAD_BUFFER_BYTES_PER_ADDRESS: String(4 * 2 ** 20) }),
    "UPLOAD_BUFFER_BYTES_PER_ADDRESS=4194304 is less than UPLOAD_BUFFER_BYTES_PER_CONNECTION=8388608: raise it or lower the share of one connection",
  );
  assert.equal(
    configError({ UPLOAD_BUFFER_BYTES: String(12 * 2 ** 20) }),
    "UPLOAD_BUFFER_BYTES=12582912 is less than UPLOAD_BUFFER_BYTES_PER_ADDRESS=16777216: raise it or lower the share of one address",
  );
  assert.equal(configError({ UPLOAD_TIMEOUT_MS: "500" }), 'UPLOAD_TIMEOUT_MS must be a whole number from 1000 to 3600000, got "500"');
  const raised = loadConfig(
    {
      READ_MAX_BYTES: String(16 * 2 ** 20),
      UPLOAD_BUFFER_BYTES_PER_CONNECTION: String(32 * 2 ** 20),
      UPLOAD_BUFFER_BYTES_PER_ADDRESS: String(32 * 2 ** 20),
    },
    false,
  );
  assert.equal(raised.uploads.perConnectionBytes, 32 * 2 ** 20);
});
