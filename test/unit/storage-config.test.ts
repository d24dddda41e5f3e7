import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig, redactPassword } from "../../server/config.js";

test("without DATABASE_URL the embedded database lives in DATA_DIR, .data by default, synced fully at each commit", () => {
  assert.deepEqual(loadConfig({}, false).database, { engine: "sqlite", dataDir: ".data", synchronous: "full" });
  assert.deepEqual(loadConfig({ DATA_DIR: "/srv/orders", SQLITE_SYNCHRONOUS: "normal" }, false).database, {
    engine: "sqlite",
    dataDir: "/srv/orders",
    synchronous: "normal",
  });
  assert.throws(() => loadConfig({ SQLITE_SYNCHRONOUS: "off" }, false), /SQLITE_SYNCHRONOUS/);
});

test("DATABASE_URL selects PostgreSQL, with pool size and startup patience", () => {
  assert.deepEqual(loadConfig({ DATABASE_URL: "postgres://app@db:5432/shop", DATABASE_POOL_SIZE: "20" }, false).database, {
    engine: "postgres",
    url: "postgres://app@db:5432/shop",
    poolSize: 20,
    startupTimeoutMs: 60_000,
  });
});

test("a DATABASE_URL that is not a PostgreSQL URL is refused, without echoing its password", () => {
  assert.throws(
    () => loadConfig({ DATABASE_URL: "mysql://app:secret@db/shop" }, false),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
  assert.throws(() => loadConfig({ WATCH_BUFFER_LIMIT: "0" }, false), /WATCH_BUFFER_LIMIT must be a whole number from 1/);
});

test("passwords are hidden in URLs shown to people", () => {
  assert.equal(redactPassword("postgres://app:s3cr3t@db:5432/shop"), "postgres://app:***@db:5432/shop");
  assert.equal(redactPassword("postgres://app@db/shop"), "postgres://app@db/shop");
});
