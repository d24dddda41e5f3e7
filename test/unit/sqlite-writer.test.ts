import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { Kysely, sql } from "kysely";
import { isConnectionFailure } from "../../server/storage/failures.js";
import { openConnection } from "../../server/storage/sqlite-connection.js";
import { type Notification, notifyQuery, splitSqliteDialect } from "../../server/storage/sqlite-split-dialect.js";
import { SqliteWriter } from "../../server/storage/sqlite-writer.js";

// The embedded database's writer thread and its Kysely driver, on a real
// file: transactions that wait for each other share one COMMIT, yet each
// keeps or loses its own writes; what a commit acknowledged is readable at
// once on the main thread's connection.

interface Items {
  items: { name: string };
}

const folder = await mkdtemp(path.join(tmpdir(), "sqlite-writer-"));
after(() => rm(folder, { recursive: true, force: true }));

interface Opened {
  db: Kysely<Items>;
  writer: SqliteWriter;
  reader: DatabaseSync;
  delivered: string[];
  close(): Promise<void>;
}

async function open(name: string): Promise<Opened> {
  const file = path.join(folder, `${name}.db`);
  const options = { synchronous: "full" as const, busyTimeoutMs: 1_000 };
  const reader = openConnection(file, options);
  reader.exec("pragma query_only = on");
  const published = new Map<number, Notification[]>();
  const delivered: string[] = [];
  const writer = await SqliteWriter.start({ file, ...options }, (tx, notices) => {
    for (const { payload } of [...(published.get(tx) ?? []), ...notices]) delivered.push(payload);
    published.delete(tx);
  });
  // Started here already: these tests drive the writer itself.
  const db = new Kysely<Items>({ dialect: splitSqliteDialect(reader, { started: writer, start: async () => writer }, published) });
  await sql`create table if not exists items (name text primary key)`.execute(db);
  return {
    db,
    writer,
    reader,
    delivered,
    async close() {
      await writer.close();
      reader.close();
    },
  };
}

async function names(db: Kysely<Items>): Promise<string[]> {
  return (await db.selectFrom("items").select("name").orderBy("name").execute()).map((row) => row.name);
}

test("a failing transaction in a group loses only its own writes, and only released ones are announced", async () => {
  const { db, writer, delivered, close } = await open("group");
  try {
    // A cold thread's first statements are slow to prepare: warm it up, so the burst below is what waits.
    for (const name of ["w1", "w2"]) await db.transaction().execute((tx) => tx.insertInto("items").values({ name }).execute());
    await db.deleteFrom("items").execute();
    const before = writer.groupCommits;
    const insert = (name: string) => async (tx: Kysely<Items>) => {
      await tx.insertInto("items").values({ name }).execute();
      await tx.executeQuery(notifyQuery("items", name));
    };
    const outcomes = await Promise.allSettled([
      db.transaction().execute(insert("a")),
      db.transaction().execute(async (tx) => {
        await insert("b")(tx);
        throw new Error("the caller changed its mind");
      }),
      // "a" is already in the group's outer transaction: the key clashes.
      db.transaction().execute(async (tx) => {
        await insert("c")(tx);
        await insert("a")(tx);
      }),
      ...["d", "e", "f", "g", "h", "i", "j"].map((name) => db.transaction().execute(insert(name))),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ["fulfilled", "rejected", "rejected", ...Array(7).fill("fulfilled")],
    );
    const clash = outcomes[2]?.status === "rejected" ? (outcomes[2].reason as Error) : undefined;
    assert.match(String(clash?.message), /UNIQUE constraint failed/);
    assert.equal(isConnectionFailure(clash), false, "a constraint is the caller's fault, not an outage");
    assert.deepEqual(await names(db), ["a", "d", "e", "f", "g", "h", "i", "j"]);
    assert.deepEqual(delivered, ["a", "d", "e", "f", "g", "h", "i", "j"], "changes of committed transactions only, in commit order");
    const commits = writer.groupCommits - before;
    console.log(`# 10 transactions (8 committed) took ${commits} COMMITs`);
    assert.ok(commits < 8, `transactions that waited shared COMMITs (${commits} COMMITs for 8 transactions)`);
  } finally {
    await close();
  }
});

test("a change sent by a statement with notify() is announced once its write commits, in commit order, and never for a write that failed", async () => {
  const { db, delivered, close } = await open("notify");
  try {
    const insert = (name: string, db: Kysely<Items>) =>
      sql`insert into items (name) values (${name}) returning notify('items', 'inserted ' || name) as notified`.execute(db);
    await insert("warm", db);
    delivered.length = 0;
    const outcomes = await Promise.allSettled([
      insert("a", db),
      // The key clashes: the statement fails, and so does its notice.
      insert("a", db),
      db.transaction().execute(async (tx) => {
        await insert("b", tx);
        throw new Error("the caller changed its mind");
      }),
      db.transaction().execute(async (tx) => {
        await insert("c", tx);
        await insert("d", tx);
      }),
      insert("e", db),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ["fulfilled", "rejected", "rejected", "fulfilled", "fulfilled"],
    );
    assert.deepEqual(await names(db), ["a", "c", "d", "e", "warm"]);
    assert.deepEqual(delivered, ["inserted a", "inserted c", "inserted d", "inserted e"]);
  } finally {
    await close();
  }
});

test("an acknowledged write is readable at once on the main thread", async () => {
  const { db, close } = await open("read-your-writes");
  try {
    await Promise.all(
      Array.from({ length: 64 }, async (_, index) => {
        const name = `item-${index}`;
        if (index % 2 === 0) await db.insertInto("items").values({ name }).execute();
        else await db.transaction().execute((tx) => tx.insertInto("items").values({ name }).execute());
        const row = await db.selectFrom("items").select("name").where("name", "=", name).executeTakeFirst();
        assert.equal(row?.name, name);
      }),
    );
  } finally {
    await close();
  }
});

test("a stream left half-read does not hide later commits from the reader", async () => {
  const { db, close } = await open("stream");
  try {
    await db
      .insertInto("items")
      .values([{ name: "s1" }, { name: "s2" }, { name: "s3" }])
      .execute();
    for await (const row of db.selectFrom("items").select("name").orderBy("name").stream(1)) {
      assert.equal(row.name, "s1");
      break;
    }
    await db.insertInto("items").values({ name: "s4" }).execute();
    assert.deepEqual(await names(db), ["s1", "s2", "s3", "s4"]);
  } finally {
    await close();
  }
});

test("a full disk fails the write as an outage, keeps none of it, and the writer goes on", async () => {
  const { db, close } = await open("full");
  try {
    await sql`pragma max_page_count = 64`.execute(db);
    const big = "x".repeat(4_000);
    const failure = await db
      .transaction()
      .execute(async (tx) => {
        for (let index = 0; ; index++)
          await tx
            .insertInto("items")
            .values({ name: `${big}${index}` })
            .execute();
      })
      .then(
        () => assert.fail("expected the disk to be full"),
        (error: unknown) => error,
      );
    assert.equal(isConnectionFailure(failure), true, String(failure));
    assert.deepEqual(await names(db), []);
    // A statement on its own (one message, no savepoint) fails the same way.
    const alone = await db
      .insertInto("items")
      .values(Array.from({ length: 100 }, (_, index) => ({ name: `${big}alone${index}` })))
      .execute()
      .then(
        () => assert.fail("expected the disk to be full"),
        (error: unknown) => error,
      );
    assert.equal(isConnectionFailure(alone), true, String(alone));
    assert.deepEqual(await names(db), []);
    await sql`pragma max_page_count = 1000000`.execute(db);
    await db.insertInto("items").values({ name: "after" }).execute();
    assert.deepEqual(await names(db), ["after"]);
  } finally {
    await close();
  }
});

test("closing finishes the writes already sent", async () => {
  const first = await open("close");
  // Transactions held open until close was asked for: close waits for them.
  let closing = () => {};
  const asked = new Promise<void>((resolve) => (closing = resolve));
  const writes = Array.from({ length: 20 }, (_, index) =>
    first.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("items")
        .values({ name: `w${index}` })
        .execute();
      await asked;
      await tx
        .insertInto("items")
        .values({ name: `w${index}-after-close` })
        .execute();
    }),
  );
  while (first.writer.pending < 20) await new Promise((resolve) => setImmediate(resolve));
  const closed = first.close();
  closing();
  await closed;
  assert.equal((await Promise.allSettled(writes)).filter((outcome) => outcome.status === "rejected").length, 0);
  const again = await open("close");
  try {
    assert.equal((await names(again.db)).length, 40);
    await assert.rejects(first.db.insertInto("items").values({ name: "late" }).execute(), (error) => isConnectionFailure(error));
  } finally {
    await again.close();
  }
});

test("a transaction the writer thread ends under fails as an outage and keeps nothing", async () => {
  const first = await open("cut");
  let resume = () => {};
  const held = new Promise<void>((resolve) => (resume = resolve));
  const cut = first.db.transaction().execute(async (tx) => {
    await tx.insertInto("items").values({ name: "cut" }).execute();
    await held;
    await tx.insertInto("items").values({ name: "cut-2" }).execute();
  });
  while (first.writer.pending < 1) await new Promise((resolve) => setImmediate(resolve));
  // Closing waits a while for the transaction, then ends the thread under it.
  await first.close();
  resume();
  await assert.rejects(cut, (error) => isConnectionFailure(error));
  const again = await open("cut");
  try {
    assert.deepEqual(await names(again.db), []);
  } finally {
    await again.close();
  }
});
