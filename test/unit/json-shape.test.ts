import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkJsonShape, guardedJsonOptions, maxJsonDepth, maxJsonTokens } from "../../server/wire/json-shape.js";

const fourMiB = 4 * 1024 * 1024;

describe("JSON a request message can have passes unchanged", () => {
  const samples = [
    "{}",
    '{"name": "Ada"}',
    '{"name":"Zoë 👍🏽","delayMs":300}',
    '{"name":"Tea","date":"2024-05-01T12:00:00Z","idempotencyKey":"k-1"}',
    // Brackets, braces, commas, colons and escaped quotes inside strings are text, not structure.
    `{"title":"${"[{,:".repeat(5_000)}"}`,
    '{"title":"a \\"quoted\\" word, and a backslash \\\\"}',
    `{"name":"${"x".repeat(fourMiB - 12)}"}`,
    `{${" ".repeat(fourMiB)}}`,
  ];
  for (const json of samples) {
    test(json.length > 60 ? `${json.slice(0, 60)}… (${json.length} characters)` : json, () => assert.equal(checkJsonShape(json), json));
  }

  test(`nesting up to ${maxJsonDepth} levels`, () => {
    const deep = "[".repeat(maxJsonDepth) + "]".repeat(maxJsonDepth);
    assert.equal(checkJsonShape(deep), deep);
  });
});

describe("a shape no request message has is refused, quickly, whatever its size", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["one level too deep", "[".repeat(maxJsonDepth + 1) + "]".repeat(maxJsonDepth + 1), /the request JSON nests deeper than 32 levels/],
    ["4 MiB of nested arrays", "[".repeat(fourMiB / 2) + "]".repeat(fourMiB / 2), /nests deeper than 32 levels/],
    ["nested objects", `${'{"a":'.repeat(fourMiB / 6)}1${"}".repeat(fourMiB / 6)}`, /nests deeper/],
    [
      "4 MiB of distinct keys",
      `{${Array.from({ length: fourMiB / 12 }, (_, i) => `"k${i.toString(36)}":1`).join(",")}}`,
      /has more than 10000 strings/,
    ],
    ["4 MiB of empty arrays", `[${"[],".repeat(fourMiB / 3 - 1)}[]]`, /has more than 10000/],
    ["strings with nothing between them", `[${'"a"'.repeat(fourMiB / 3)}]`, /has more than 10000/],
    ["closing brackets alone", "]".repeat(fourMiB), /has more than 10000/],
  ];
  for (const [name, json, message] of cases) {
    test(name, () => {
      // JSON.parse takes from a third of a second to over a second on these;
      // the shortest of three runs is immune to one pause of the machine.
      const runs = [0, 1, 2].map(() => {
        const started = performance.now();
        assert.throws(() => checkJsonShape(json), message);
        return performance.now() - started;
      });
      const ms = Math.min(...runs);
      assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
    });
  }

  test("the token limit leaves room for far more than any message", () => {
    const fields = Array.from({ length: 1_000 }, (_, i) => `"f${i}":"v"`).join(",");
    assert.ok(`{${fields}}`.length > 0 && 1_000 * 4 < maxJsonTokens);
    assert.doesNotThrow(() => checkJsonShape(`{${fields}}`));
  });
});

test("the decoder refuses bytes that are not UTF-8, instead of replacing them", () => {
  const { textDecoder } = guardedJsonOptions;
  assert.equal(textDecoder.decode(new TextEncoder().encode('{"name":"なんしー"}')), '{"name":"なんしー"}');
  assert.throws(() => textDecoder.decode(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])), /^Error: the request JSON is not valid UTF-8$/);
  assert.throws(() => textDecoder.decode(new TextEncoder().encode("[".repeat(100))), /nests deeper/);
});

test("an escaped half of a surrogate pair is refused; a whole pair and an escaped backslash are not", () => {
  const lone = /escapes half of a surrogate pair/;
  assert.throws(() => checkJsonShape(String.raw`{"value":"\ud800"}`), lone);
  assert.throws(() => checkJsonShape(String.raw`{"value":"\udc00x"}`), lone);
  assert.throws(() => checkJsonShape(String.raw`{"value":"\uD83D\u0041"}`), lone);
  assert.throws(() => checkJsonShape(String.raw`{"value":"\ud83d`), lone);
  assert.doesNotThrow(() => checkJsonShape(String.raw`{"value":"\ud83d\ude00 ok"}`));
  assert.doesNotThrow(() => checkJsonShape(String.raw`{"value":"\\ud800"}`));
  assert.doesNotThrow(() => checkJsonShape(String.raw`{"value":"\u00e9"}`));
});
