import assert from "node:assert/strict";
import { test } from "node:test";
import { postgresMigrations } from "../../server/storage/migrations/postgres.js";
import { sqliteMigrations } from "../../server/storage/migrations/sqlite.js";

test("SQLite and PostgreSQL have the same schema history, name for name", () => {
  assert.deepEqual(Object.keys(sqliteMigrations), Object.keys(postgresMigrations));
  // Applied in name order: the names must sort as they are written.
  assert.deepEqual(Object.keys(postgresMigrations), Object.keys(postgresMigrations).sort());
});
