import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { type Release, StreamBudget } from "../../server/rate-limit/stream-budget.js";

const limits = { perCaller: 2, perConnection: 3, maxMessages: 10, maxWatchMs: 60_000 };

function taken(result: Release | ConnectError): Release {
  assert.ok(!(result instanceof ConnectError), `refused: ${result instanceof ConnectError ? result.message : ""}`);
  return result;
}

test("a caller past its cap is refused with RESOURCE_EXHAUSTED and RetryInfo; another caller is not", () => {
  const budget = new StreamBudget(limits);
  const connection = {};
  taken(budget.take("addr:10.0.0.1", connection));
  taken(budget.take("addr:10.0.0.1", connection));
  const refused = budget.take("addr:10.0.0.1", {});
  assert.ok(refused instanceof ConnectError);
  assert.equal(refused.code, Code.ResourceExhausted);
  assert.match(refused.rawMessage, /at most 2 streaming calls at once per caller/);
  assert.equal(refused.findDetails(RetryInfoSchema).length, 1);
  assert.equal(refused.metadata.get("retry-after"), "1");
  taken(budget.take("sub:bob", connection));
  assert.equal(budget.open, 3);
});

test("a connection past its cap is refused whoever the caller; a stream without a known connection counts for its caller only", () => {
  const budget = new StreamBudget(limits);
  const connection = {};
  for (const caller of ["a", "b", "c"]) taken(budget.take(caller, connection));
  const refused = budget.take("d", connection);
  assert.ok(refused instanceof ConnectError);
  assert.match(refused.rawMessage, /at most 3 streaming calls at once per connection/);
  taken(budget.take("d", undefined));
  assert.equal(budget.openBy("d"), 1);
});

test("releasing gives the slot back once, however often it is called, and nothing is kept for callers with no stream", () => {
  const budget = new StreamBudget(limits);
  const connection = {};
  const first = taken(budget.take("a", connection));
  const second = taken(budget.take("a", connection));
  first();
  first();
  assert.equal(budget.openBy("a"), 1);
  assert.equal(budget.open, 1);
  taken(budget.take("a", connection))();
  second();
  assert.equal(budget.open, 0);
  assert.equal(budget.openBy("a"), 0);
});
