import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "../../server/domain/errors.js";
import {
  checkName,
  greetingsFor,
  hello,
  helloAgain,
  helloEveryone,
  helloInJapanese,
  maxNameLength,
  visibleLength,
} from "../../server/domain/greeter.js";

function assertInvalid(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => error instanceof ValidationError && message.test(error.message));
}

describe("visibleLength counts what a person sees", () => {
  const cases: Array<[string, number]> = [
    ["", 0],
    ["Ada", 3],
    ["なんしー", 4],
    ["👍🏽", 1],
    ["👨‍👩‍👧‍👦", 1],
    ["🇯🇵", 1],
    ["e\u0301", 1],
    ["한국어", 3],
    ["Zoë Ångström", 12],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.equal(visibleLength(text), expected));
  }
});

describe("checkName", () => {
  test("accepts 1 to 10 visible characters, however many code units they take", () => {
    assert.equal(checkName("A"), "A");
    assert.equal(checkName("abcdefghij"), "abcdefghij");
    const tenEmoji = "👍🏽".repeat(10);
    assert.equal(tenEmoji.length, 40);
    assert.equal(checkName(tenEmoji), tenEmoji);
  });

  test("rejects more than 10 characters, saying the limit and the length", () => {
    assert.equal(maxNameLength, 10);
    assertInvalid(() => checkName("abcdefghijk"), /^name cannot be more than 10 characters, got 11$/);
    assertInvalid(() => checkName("なんしー".repeat(3)), /got 12$/);
  });

  test("names the field it checks", () => {
    assert.throws(
      () => checkName("abcdefghijk", "names"),
      (error: unknown) => error instanceof ValidationError && error.field === "names",
    );
  });
});

describe("greetings", () => {
  test("unary greetings", () => {
    assert.equal(hello("Ada"), "Hello, Ada!");
    assert.equal(helloAgain("Ada"), "Hello again, Ada!");
    assert.equal(helloInJapanese("なんしー"), "こんにちは, なんしー");
    assertInvalid(() => hello("👍🏽".repeat(11)), /^name cannot be more than 10 characters, got 11$/);
  });

  test("one greeting per language, each with the name", () => {
    const greetings = greetingsFor("Ada");
    const languages = greetings.map((greeting) => greeting.language);
    for (const required of ["en", "fr", "ja", "ko", "ru"]) assert.ok(languages.includes(required), `missing ${required}`);
    assert.equal(new Set(languages).size, languages.length);
    for (const { message } of greetings) assert.match(message, /Ada/);
    assert.deepEqual(greetings[0], { language: "en", message: "Hello, Ada!" });
    assertInvalid(() => greetingsFor("abcdefghijk"), /more than 10/);
  });

  test("everyone in one sentence", () => {
    assert.equal(helloEveryone(["Alice"]), "Hello, Alice!");
    assert.equal(helloEveryone(["Alice", "Bob"]), "Hello, Alice and Bob!");
    assert.equal(helloEveryone(["Alice", "Bob", "Carol"]), "Hello, Alice, Bob, and Carol!");
    assertInvalid(() => helloEveryone([]), /at least one name/);
  });
});
