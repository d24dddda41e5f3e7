import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { LookupBatches } from "../../server/storage/lookup-batch.js";

/** A store of `values` that records the keys of every read. */
function store(values: Record<string, number>, fail?: Error, limit = 3) {
  const reads: string[][] = [];
  const batches = new LookupBatches<number>(async (keys) => {
    reads.push([...keys]);
    if (fail !== undefined) throw fail;
    return new Map(keys.flatMap((key) => (key in values ? [[key, values[key] as number] as const] : [])));
  }, limit);
  return { batches, reads };
}

test("lookups made in the same turn share one read, each key read once, each lookup given its own answer", async () => {
  const { batches, reads } = store({ a: 1, b: 2 }, undefined, 4);
  const answers = await Promise.all([batches.get("a"), batches.get("b"), batches.get("a"), batches.get("missing")]);
  assert.deepEqual(answers, [1, 2, 1, undefined]);
  assert.deepEqual(reads, [["a", "b", "missing"]]);
});

test("a lookup made after a read started gets a read of its own, never the answer of an earlier one", async () => {
  const values: Record<string, number> = { a: 1 };
  const { batches, reads } = store(values);
  const first = batches.get("a");
  await nextTurn();
  values.a = 2;
  assert.equal(await batches.get("a"), 2);
  assert.equal(await first, 1);
  assert.deepEqual(reads, [["a"], ["a"]]);
});

test("no read is for more lookups than the limit", async () => {
  const { batches, reads } = store({ a: 1, b: 2, c: 3, d: 4 });
  assert.deepEqual(await Promise.all(["a", "b", "c", "d", "a"].map((key) => batches.get(key))), [1, 2, 3, 4, 1]);
  assert.deepEqual(reads, [
    ["a", "b", "c"],
    ["d", "a"],
  ]);
});

test("a failed read fails every lookup it was for, and the next turn reads again", async () => {
  const outage = new Error("connection lost");
  const { batches, reads } = store({ a: 1 }, outage);
  const results = await Promise.allSettled([batches.get("a"), batches.get("b")]);
  assert.deepEqual(results, [
    { status: "rejected", reason: outage },
    { status: "rejected", reason: outage },
  ]);
  await assert.rejects(batches.get("a"), outage);
  assert.equal(reads.length, 2);
});
