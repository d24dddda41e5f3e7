import assert from "node:assert/strict";
import { after, test } from "node:test";
import pg from "pg";
import { openDatabase } from "../../server/storage/database.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { memoryLogger } from "../support/logs.js";
import { describeUnless } from "../support/skip.js";

// One PostgreSQL database shared with other deployments (or test runs) that
// create and drop schemas of their own: a server starting meanwhile must
// come up. Kysely looks for its migration tables across every schema, and a
// schema dropped during that lookup used to fail the start (SQLSTATE 3F000,
// found by CI: two test files in parallel, one dropping its schema while the
// other's replicas started).

describeUnless(postgresSkipReason, "a PostgreSQL database other clients change meanwhile", () => {
  const cases: EngineCase[] = [];
  after(async () => {
    for (const database of cases) await database.cleanup();
  });

  test("the server opens its schema while other schemas come and go", { timeout: 120_000 }, async () => {
    const churn = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await churn.connect();
    let stop = false;
    let churned = 0;
    const churning = (async () => {
      while (!stop) {
        const schema = `churn_${process.pid}_${churned++}`;
        await churn.query(`create schema ${schema}; create table ${schema}.t (id serial primary key, a text, b text, c text)`);
        await churn.query(`drop schema ${schema} cascade`);
      }
    })();
    const { logger, logs } = memoryLogger();
    try {
      for (let start = 0; start < 12; start++) {
        const database = await postgresCase();
        cases.push(database);
        const url = database.env.DATABASE_URL;
        assert.ok(url);
        const opened = await openDatabase({ engine: "postgres", url, poolSize: 2, startupTimeoutMs: 5_000 }, logger);
        try {
          assert.equal((await opened.movies.get("a8034f44-aee4-44cf-b32c-74cf452aaaae"))?.title, "The Martian", `start ${start + 1}`);
        } finally {
          await opened.close();
        }
      }
    } finally {
      stop = true;
      await churning;
      await churn.end();
    }
    assert.ok(churned > 12, `the other client dropped ${churned} schemas meanwhile`);
    const retries = logs.filter((record) => record.msg.startsWith("another client changed the database's catalog"));
    for (const retry of retries) assert.match(String(retry.reason), /^(3F000|42P01): /);
  });
});
