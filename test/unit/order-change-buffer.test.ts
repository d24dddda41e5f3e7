import assert from "node:assert/strict";
import { test } from "node:test";
import { ChangeBuffer } from "../../server/domain/change-buffer.js";

const overflow = () => new Error("overflow");

test("delivers items in order, waiting for the next one", async () => {
  const buffer = new ChangeBuffer<number>(10, overflow);
  const reader = buffer.read(new AbortController().signal);
  buffer.push(1);
  buffer.push(2);
  assert.deepEqual([(await reader.next()).value, (await reader.next()).value], [1, 2]);
  const third = reader.next();
  buffer.push(3);
  assert.equal((await third).value, 3);
});

test("one item over the limit ends the buffer, drops what it held, and the reader gets the overflow error", async () => {
  const buffer = new ChangeBuffer<number>(2, overflow);
  buffer.push(1);
  buffer.push(2);
  assert.equal(buffer.ended, false);
  buffer.push(3);
  assert.equal(buffer.ended, true);
  buffer.push(4);
  await assert.rejects(buffer.read(new AbortController().signal).next(), /overflow/);
});

test("end() wakes a waiting reader with its error", async () => {
  const buffer = new ChangeBuffer<number>(2, overflow);
  const waiting = buffer.read(new AbortController().signal).next();
  buffer.end(new Error("database gone"));
  await assert.rejects(waiting, /database gone/);
});

test("aborting the signal stops a waiting reader with the signal's reason", async () => {
  const buffer = new ChangeBuffer<number>(2, overflow);
  const controller = new AbortController();
  const waiting = buffer.read(controller.signal).next();
  controller.abort(new Error("client went away"));
  await assert.rejects(waiting, /client went away/);
});
