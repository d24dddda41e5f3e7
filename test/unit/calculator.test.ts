import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { add, divide, multiply, squareRoot, subtract } from "../../server/domain/calculator.js";
import { OutOfRangeError, ValidationError } from "../../server/domain/errors.js";

/** Asserts that `run` throws a ValidationError about `field` whose message matches `message`. */
function assertInvalid(run: () => unknown, field: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  });
}

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

  test("rejects negative and non-finite numbers, naming the value and the field", () => {
    assertInvalid(() => squareRoot(-4), "number", /negative number: number is -4/);
    assertInvalid(() => squareRoot(-Number.MIN_VALUE), "number", /negative/);
    assertInvalid(() => squareRoot(NaN), "number", /number must be a finite number, got NaN/);
    assertInvalid(() => squareRoot(Infinity), "number", /got Infinity/);
    assertInvalid(() => squareRoot(-Infinity), "number", /got -Infinity/);
    assertInvalid(() => squareRoot(-1, "value"), "value", /value is -1/);
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

  test("reject an operand that is not finite, naming it", () => {
    assertInvalid(() => add(NaN, 1), "a", /a must be a finite number, got NaN/);
    assertInvalid(() => subtract(1, -Infinity), "b", /b must be a finite number, got -Infinity/);
    assertInvalid(() => multiply(Infinity, 0), "a", /got Infinity/);
    assertInvalid(() => divide(1, NaN), "b", /got NaN/);
  });

  test("reject division by zero, including negative zero", () => {
    assertInvalid(() => divide(1, 0), "b", /cannot divide by zero/);
    assertInvalid(() => divide(0, -0), "b", /cannot divide by zero/);
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
