import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { TurnBatches } from "../../server/storage/turn-batch.js";

/** Doubles numbers, recording each run's items; `answer` may settle an item apart. */
function doubler(answer: (item: number) => number | Promise<number> = (item) => item * 2, limit = 3) {
  const runs: number[][] = [];
  const batches = new TurnBatches<number, number>(async (items) => {
    runs.push([...items]);
    return items.map(answer);
  }, limit);
  return { batches, runs };
}

test("items added in the same turn share one run, each given its own result", async () => {
  const { batches, runs } = doubler();
  assert.deepEqual(await Promise.all([batches.add(1), batches.add(2), batches.add(1)]), [2, 4, 2]);
  assert.deepEqual(runs, [[1, 2, 1]]);
});

test("an item added after a run started gets a run of its own", async () => {
  const { batches, runs } = doubler();
  const first = batches.add(1);
  await nextTurn();
  assert.equal(await batches.add(2), 4);
  assert.equal(await first, 2);
  assert.deepEqual(runs, [[1], [2]]);
});

test("no run is given more items than the limit", async () => {
  const { batches, runs } = doubler();
  assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((item) => batches.add(item))), [2, 4, 6, 8, 10]);
  assert.deepEqual(runs, [
    [1, 2, 3],
    [4, 5],
  ]);
});

test("a result given as a promise settles its item alone", async () => {
  const refused = new Error("refused");
  const { batches } = doubler((item) => (item === 2 ? Promise.reject(refused) : item * 2));
  const results = await Promise.allSettled([batches.add(1), batches.add(2), batches.add(3)]);
  assert.deepEqual(results, [
    { status: "fulfilled", value: 2 },
    { status: "rejected", reason: refused },
    { status: "fulfilled", value: 6 },
  ]);
});

test("a failed run fails every item in it, and the next turn runs again", async () => {
  const outage = new Error("connection lost");
  let failing = true;
  const batches = new TurnBatches<number, number>(async (items) => {
    if (failing) throw outage;
    return items;
  }, 10);
  const results = await Promise.allSettled([batches.add(1), batches.add(2)]);
  assert.deepEqual(results, [
    { status: "rejected", reason: outage },
    { status: "rejected", reason: outage },
  ]);
  failing = false;
  assert.equal(await batches.add(3), 3);
});

test("a run that answers for too few items fails them all rather than leave one waiting", async () => {
  const batches = new TurnBatches<number, number>(async (items) => items.slice(1), 10);
  const results = await Promise.allSettled([batches.add(1), batches.add(2)]);
  assert.ok(results.every((result) => result.status === "rejected"));
});
