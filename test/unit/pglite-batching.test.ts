import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import { batchingPglite } from "../../server/storage/pglite-batching.js";

// node-postgres over the batching PGlite, as the server uses it: answers,
// errors and transactions are those of PostgreSQL itself.
describe("PGlite with protocol messages batched", () => {
  let lite: PGlite;
  let client: pg.Client;
  before(async () => {
    lite = await PGlite.create();
    client = new pg.Client(createPgConfig(batchingPglite(lite)));
    await client.connect();
    await client.query("create table items (id int primary key, name text not null)");
  });
  after(async () => {
    await client.end();
    await lite.close();
  });

  test("a query with parameters answers with its rows", async () => {
    await client.query("insert into items values ($1, $2), ($3, $4)", [1, "one", 2, "two"]);
    const result = await client.query<{ id: number; name: string }>("select id, name from items where id >= $1 order by id", [1]);
    assert.deepEqual(result.rows, [
      { id: 1, name: "one" },
      { id: 2, name: "two" },
    ]);
  });

  test("an error rejects that query only: the next one answers", async () => {
    await assert.rejects(client.query("select nonsense from items where id = $1", [1]), /column "nonsense" does not exist/);
    await assert.rejects(client.query("insert into items values ($1, $2)", [1, "again"]), /duplicate key/);
    assert.equal((await client.query("select count(*)::int as n from items")).rows[0]?.n, 2);
  });

  test("a transaction that fails halfway is rolled back", async () => {
    await client.query("begin");
    await client.query("insert into items values ($1, $2)", [3, "three"]);
    await assert.rejects(client.query("insert into items values ($1, $2)", [3, "three again"]), /duplicate key/);
    await assert.rejects(client.query("select 1"), /current transaction is aborted/);
    await client.query("rollback");
    assert.equal((await client.query("select count(*)::int as n from items")).rows[0]?.n, 2);
  });

  test("everything but the protocol is the instance itself", async () => {
    const batching = batchingPglite(lite);
    await batching.waitReady;
    assert.equal((await batching.query<{ n: number }>("select 1 as n")).rows[0]?.n, 1);
  });
});
