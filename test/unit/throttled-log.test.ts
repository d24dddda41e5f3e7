import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ThrottledLog } from "../../server/transport/throttled-log.js";
import { memoryLogger } from "../support/logs.js";

test("a burst of events costs two lines: the first at once, then the count of the rest", async () => {
  const { logger, logs } = memoryLogger();
  const log = new ThrottledLog(logger, "warn", "refused connections", 100);
  for (let i = 0; i < 1_000; i++) log.event({ remoteAddress: `10.0.0.${i % 256}` });
  assert.deepEqual(
    logs.map((record) => [record.msg, record.count, record.level]),
    [["refused connections", 1, 40]],
  );
  await sleep(250);
  assert.deepEqual(
    logs.map((record) => [record.count, record.remoteAddress]),
    [
      [1, "10.0.0.0"],
      [999, "10.0.0.231"],
    ],
    "the second line counts the rest and describes the latest",
  );
});

test("events further apart than the interval are each logged", async () => {
  const { logger, logs } = memoryLogger();
  const log = new ThrottledLog(logger, "info", "closed a silent connection", 20);
  for (let i = 0; i < 3; i++) {
    log.event({ n: i });
    await sleep(40);
  }
  assert.deepEqual(
    logs.map((record) => [record.n, record.count]),
    [
      [0, 1],
      [1, 1],
      [2, 1],
    ],
  );
});
