import assert from "node:assert/strict";
import { test } from "node:test";
import { CatalogueCache } from "../../server/storage/catalogue-cache.js";

function collected(cache: CatalogueCache<number>, version: string, items: number[], versionAfter = version): void {
  const collector = cache.collect(version);
  for (const item of items) collector.add(item);
  collector.keep(versionAfter);
}

test("a complete listing is kept for its version, and only for it", () => {
  const cache = new CatalogueCache<number>(3);
  assert.equal(cache.at("1"), undefined);
  collected(cache, "1", [1, 2, 3]);
  assert.deepEqual(cache.at("1"), [1, 2, 3]);
  assert.equal(cache.at("2"), undefined);
});

test("a listing whose version moved while it ran is not kept", () => {
  const cache = new CatalogueCache<number>(3);
  collected(cache, "1", [1, 2], "2");
  assert.equal(cache.at("1"), undefined);
  assert.equal(cache.at("2"), undefined);
});

test("a catalogue larger than the limit is not kept, nor is the one kept before it", () => {
  const cache = new CatalogueCache<number>(3);
  collected(cache, "1", [1]);
  collected(cache, "2", [1, 2, 3, 4]);
  assert.equal(cache.at("2"), undefined);
  assert.equal(cache.at("1"), undefined);
});
