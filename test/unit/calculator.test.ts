import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { add, divide, multiply, squareRoot, subtract } from "../../server/domain/calculator.js";
import { OutOfRangeError } from "../../server/domain/errors.js";

describe("squareRoot", () => {
  test("answers the non-negative root", () => {
    assert.equal(squareRoot(16), 4);
    assert.equal(squareRoot(2), Math.SQRT2);
    assert.equal(squareRoot(0), 0);
    assert.equal(squareRoot(Number.MAX_VALUE), Math.sqrt(Number.MAX_VALUE));
    assert.equal(squareRoot(Number.MIN_VALUE), Math.sqrt(Number.MIN_VALUE));
  });

  test("answers +0 for -0, never a negative zero", () => {
    assert.ok(Object.is(squareRoot(-0), 0));
  });
});

describe("add, subtract, multiply, divide", () => {
  test("compute IEEE 754 results", () => {
    assert.equal(add(0.1, 0.2), 0.1 + 0.2);
    assert.equal(subtract(1, 3), -2);
    assert.equal(multiply(-2.5, 4), -10);
    assert.equal(divide(1, 8), 0.125);
    assert.equal(divide(-1, 3), -1 / 3);
    assert.equal(multiply(1e-320, 1e-10), 0, "underflow to zero is a valid double");
  });

  test("report a result too large for a double as out of range", () => {
    for (const overflow of [
      () => add(1e308, 1e308),
      () => subtract(-1e308, 1e308),
      () => multiply(1e308, 10),
      () => divide(1e308, 1e-10),
    ]) {
      assert.throws(overflow, (error: unknown) => error instanceof OutOfRangeError && /too large for a double/.test(error.message));
    }
  });
});
