import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type DescFile, getOption } from "@bufbuild/protobuf";
import { field as fieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { RE2JS } from "@bufbuild/re2";
import { file_calculator_v1_calculator } from "../../gen/calculator/v1/calculator_pb.js";
import { file_greeter_v1_greeter } from "../../gen/greeter/v1/greeter_pb.js";
import { file_movie_v1_movie } from "../../gen/movie/v1/movie_pb.js";
import { file_order_v1_order } from "../../gen/order/v1/order_pb.js";
import { regexMatch, toJavaScript } from "../../server/validation/regex-match.js";

/** Every pattern a `matches()` rule of the canonical contracts uses, as the descriptors carry it. */
function contractPatterns(): string[] {
  const files: DescFile[] = [file_calculator_v1_calculator, file_greeter_v1_greeter, file_movie_v1_movie, file_order_v1_order];
  const patterns = new Set<string>();
  for (const file of files) {
    for (const message of file.messages) {
      for (const field of message.fields) {
        for (const rule of getOption(field, fieldRules).cel) {
          for (const [, pattern] of rule.expression.matchAll(/matches\(r'((?:[^'\\]|\\.)*)'\)/g)) patterns.add(pattern as string);
        }
      }
    }
  }
  return [...patterns];
}

/** Characters on which RE2 and JavaScript classes disagree when spelled naively, and ordinary ones. */
const alphabet = [
  "a",
  "Z",
  "7",
  "-",
  "_",
  ".",
  "~",
  "é",
  " ",
  "\t",
  "\n",
  "\r",
  "\v",
  "\f",
  "\u0085",
  "\u00a0",
  "\u1680",
  "\u2028",
  "\u2029",
  "\u3000",
  "\ufeff",
  "\u200b",
  "\u200d",
  "\u0301",
  "\u0000",
  "\u001b",
  "\u007f",
  "\u1100",
  "\u0e33",
  "😀",
  "\u{1f3fb}",
  "\u{e0041}",
  "\u{1f1e6}",
];

/** A fixed sequence of strings drawn from the alphabet (a linear congruential generator, so every run checks the same ones). */
function* samples(count: number): Generator<string> {
  let seed = 20261207;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  for (let i = 0; i < count; i++) {
    const length = next() % 14;
    let text = "";
    for (let j = 0; j < length; j++) text += alphabet[next() % alphabet.length];
    yield text;
  }
}

const uuid = "a8034f44-aee4-44cf-b32c-74cf452aaaae";
/** Texts at the edges of the contracts' rules: lengths around 100 and 200 characters, with spaces around them. */
const edges = [
  "",
  uuid,
  ` ${uuid}\u3000`,
  `${uuid}x`,
  "m".repeat(100),
  "m".repeat(101),
  ` \t${"m".repeat(100)}\ufeff `,
  "x".repeat(200),
  "x".repeat(201),
  `${" ".repeat(199)}${"x".repeat(201)}`,
  `${" ".repeat(199)}${"x".repeat(200)}${" ".repeat(1)}`,
  `x${" ".repeat(199)}x`,
  `x${" ".repeat(198)}x`,
  `\u00a0${"😀".repeat(201)}\u00a0`,
  `${"\n".repeat(100)}${"y".repeat(201)}`,
];

describe("the contracts' patterns on V8's regular expressions", () => {
  const patterns = contractPatterns();

  test("the contracts have patterns, and every one of them is translated (none is left to RE2JS)", () => {
    assert.ok(patterns.length >= 5, `found ${patterns.length} patterns`);
    for (const pattern of patterns) assert.notEqual(toJavaScript(pattern), undefined, pattern);
  });

  test("each pattern accepts exactly the strings RE2 accepts", () => {
    for (const pattern of patterns) {
      const re2 = RE2JS.compile(pattern);
      for (const text of [...samples(3000), ...edges]) {
        assert.equal(regexMatch(pattern, text), re2.test(text), `${pattern} against ${JSON.stringify(text)}`);
      }
    }
  });
});

describe("translating RE2 into JavaScript", () => {
  test("\\s, \\d, \\w and . keep RE2's ASCII meaning, which is narrower than JavaScript's", () => {
    assert.equal(regexMatch("^\\s$", "\v"), false);
    assert.equal(regexMatch("^\\s$", "\u00a0"), false);
    assert.equal(regexMatch("^[\\s]$", "\u2028"), false);
    assert.equal(regexMatch("^\\S$", "\u00a0"), true);
    assert.equal(regexMatch("^\\d$", "٣"), false);
    assert.equal(regexMatch("^\\w$", "é"), false);
    assert.equal(regexMatch("^.$", "\r"), true);
    assert.equal(regexMatch("^.$", "\n"), false);
    assert.equal(regexMatch("^(?s).$", "\n"), true);
    assert.equal(regexMatch("^.$", "😀"), true);
  });

  test("what the subset leaves out is matched by RE2JS, with RE2's answers", () => {
    for (const [pattern, text, expected] of [
      ["(?i)abc", "ABC", true],
      ["^[[:alpha:]]+$", "abc", true],
      ["\\bword\\b", "a word here", true],
      ["^\\p{Greek}+$", "αβγ", true],
      ["^a(?s).$", "a\n", true],
      ["^[]a]$", "]", true],
      ["a{2}{", "aa{", true],
    ] as const) {
      assert.equal(toJavaScript(pattern), undefined, pattern);
      assert.equal(regexMatch(pattern, text), expected, pattern);
    }
  });

  test("a pattern RE2 refuses still fails as RE2 fails it", () => {
    assert.throws(() => regexMatch("a**", "a"));
    assert.throws(() => regexMatch("(", "a"));
  });
});
