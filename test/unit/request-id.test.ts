import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseRequestId } from "../../server/interceptors/request-id.js";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("a call without a usable x-request-id gets a fresh UUID, never the same twice", () => {
  const made = new Set<string>();
  for (let i = 0; i < 1_000; i++) {
    const id = chooseRequestId(new Headers());
    assert.match(id, uuid);
    made.add(id);
  }
  assert.equal(made.size, 1_000);
  assert.match(chooseRequestId(new Headers({ "x-request-id": "two words" })), uuid);
  assert.match(chooseRequestId(new Headers({ "x-request-id": "x".repeat(129) })), uuid);
});

test("a short, plain x-request-id from the client is kept", () => {
  assert.equal(chooseRequestId(new Headers({ "x-request-id": "req-42:a/b" })), "req-42:a/b");
});
