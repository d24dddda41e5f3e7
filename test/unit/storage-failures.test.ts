import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { describeFailure, isConnectionFailure, sqliteStartFailure } from "../../server/storage/failures.js";

// SQLite's errors, as node:sqlite throws them, sorted into "the database
// cannot serve right now" (UNAVAILABLE for the call) and faults in a query.

const folder = await mkdtemp(path.join(tmpdir(), "sqlite-failures-"));
after(() => rm(folder, { recursive: true, force: true }));

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail("expected an error");
}

test("a full disk is a failure to serve, said plainly", () => {
  const database = new DatabaseSync(":memory:");
  database.exec("create table filler (text text); pragma max_page_count = 8");
  const error = thrown(() => {
    for (;;) database.prepare("insert into filler values (?)").run("x".repeat(1000));
  });
  assert.equal(isConnectionFailure(error), true);
  assert.equal(describeFailure(error), "the disk is full (database or disk is full)");
});

test("a read-only database is a failure to serve; at start, the advice is about the folder's permissions", async () => {
  const file = path.join(folder, "read-only.db");
  new DatabaseSync(file).exec("create table t (x)");
  const database = new DatabaseSync(file, { readOnly: true });
  const error = thrown(() => database.exec("insert into t values (1)"));
  assert.equal(isConnectionFailure(error), true);
  assert.match(sqliteStartFailure(file, error).message, /read-only.*; the server needs to read and write the data folder/);
});

test("a file that is not a database is a failure to serve; at start, the advice is to move it away", async () => {
  const file = path.join(folder, "not-a-database.db");
  await writeFile(file, "plain text, not SQLite. ".repeat(100));
  const error = thrown(() => new DatabaseSync(file).exec("select * from sqlite_schema"));
  assert.equal(isConnectionFailure(error), true);
  assert.match(sqliteStartFailure(file, error).message, /not a SQLite database.*move the file \(and its -wal and -shm files\) away/);
});

test("a fault in a query is not: it is a bug, and stays one", () => {
  const database = new DatabaseSync(":memory:");
  assert.equal(isConnectionFailure(thrown(() => database.exec("selec 1"))), false);
  database.exec("create table t (x unique)");
  database.exec("insert into t values (1)");
  assert.equal(isConnectionFailure(thrown(() => database.exec("insert into t values (1)"))), false);
});
