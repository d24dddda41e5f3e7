import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CreateMovieRequestSchema, ListMoviesRequestSchema } from "../../gen/movie/v1/movie_pb.js";
import { GetOrderRequestSchema } from "../../gen/order/v1/order_pb.js";
import { ValidationError } from "../../server/domain/errors.js";
import { checkName, maxNameLength } from "../../server/domain/greeter.js";
import { checkLength, codePoints, graphemes, maxUnits, preview } from "../../server/domain/text.js";
import { refuseUnbounded } from "../../server/wire/text-bounds.js";

/** The largest text a request can carry: READ_MAX_BYTES is 4 MiB by default. */
const fourMiB = "x".repeat(4 * 1024 * 1024);

function violation(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a ValidationError");
}

/**
 * Runs `check` on the 4 MiB text and returns the error and the shortest of
 * three runs: a pause of the machine (another process, a collection) can
 * stretch one run, never all three, while counting the text is slow every
 * time.
 */
function timed(check: (text: string) => unknown): { error: ValidationError; ms: number } {
  let error: ValidationError | undefined;
  let ms = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    error = violation(() => check(fourMiB));
    ms = Math.min(ms, performance.now() - started);
  }
  assert.ok(error !== undefined);
  return { error, ms };
}

// Counting a 4 MiB text takes from tens of milliseconds (code points) to
// seconds (grapheme clusters, which grow faster than linearly on some ICU
// versions); a check on the raw length takes microseconds.
const unread = 20;

describe("a text over its limit is refused by its raw length, before it is counted", () => {
  test("greeter names", () => {
    const { error, ms } = timed((text) => checkName(text));
    assert.ok(ms < unread, `took ${ms.toFixed(1)} ms`);
    assert.equal(error.field, "name");
    assert.equal(error.rule, "max_length");
    assert.equal(error.message, `name cannot be more than 10 characters, got ${fourMiB.length} UTF-16 code units`);
  });

  test("required and optional text (titles, order names, filters, keys)", () => {
    for (const check of [
      (text: string) => refuseUnbounded(create(CreateMovieRequestSchema, { title: text })),
      (text: string) => refuseUnbounded(create(ListMoviesRequestSchema, { titleContains: text })),
    ]) {
      const { error, ms } = timed(check);
      assert.ok(ms < unread, `took ${ms.toFixed(1)} ms`);
      assert.equal(error.rule, "max_length");
      assert.match(error.message, /cannot be more than 200 characters, got 4194304 UTF-16 code units$/);
    }
  });

  test("UUIDs, whose error message quotes only the start of the value", () => {
    const { error, ms } = timed((text) => refuseUnbounded(create(GetOrderRequestSchema, { id: text })));
    assert.ok(ms < unread, `took ${ms.toFixed(1)} ms`);
    assert.equal(error.message, `id must be a UUID, got "${"x".repeat(40)}…"`);
  });
});

describe("below the raw bound, characters are counted as documented", () => {
  test("a name of 10 characters that take many code units each is accepted", () => {
    const family = "👨🏻‍👩🏻‍👦🏻‍👦🏻";
    assert.equal(family.length, 19);
    assert.equal(checkName(family.repeat(10)), family.repeat(10));
    assert.equal(violation(() => checkName(family.repeat(11))).message, "name cannot be more than 10 characters, got 11");
  });

  test("one character with endless combining marks is refused by its size", () => {
    const zalgo = `a${"\u0301".repeat(400)}`;
    assert.equal(graphemes.count(zalgo), 1);
    assert.equal(violation(() => checkName(zalgo)).message, "name cannot be more than 10 characters, got 401 UTF-16 code units");
  });

  test("the raw bound is exact for code points: anything longer has too many", () => {
    const max = 200;
    const astral = "𝄞".repeat(max);
    assert.equal(astral.length, maxUnits(max, codePoints));
    assert.doesNotThrow(() => checkLength("title", astral, max));
    assert.equal(
      violation(() => checkLength("title", `${astral}x`, max)).message,
      "title cannot be more than 200 characters, got 401 UTF-16 code units",
    );
    assert.equal(
      violation(() => checkLength("title", "x".repeat(max + 1), max)).message,
      "title cannot be more than 200 characters, got 201",
    );
  });
});

describe("names a person would write", () => {
  test("spaces, accents and emoji are fine", () => {
    for (const name of ["Ada Byron", "Zoë", "なんしー", "👍🏽"]) assert.equal(checkName(name), name);
    assert.equal(maxNameLength, 10);
  });
});

test("preview keeps the start of a value, never half a surrogate pair, in O(1)", () => {
  assert.equal(preview("short"), "short");
  assert.equal(preview("x".repeat(41)), `${"x".repeat(40)}…`);
  assert.equal(preview(`${"x".repeat(39)}😀tail`), `${"x".repeat(39)}…`);
  assert.equal(preview(fourMiB, 10), `${"x".repeat(10)}…`);
  const runs = [0, 1, 2].map(() => {
    const started = performance.now();
    preview(fourMiB, 10);
    return performance.now() - started;
  });
  assert.ok(Math.min(...runs) < unread);
});
