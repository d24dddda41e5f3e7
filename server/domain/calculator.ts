import { OutOfRangeError } from "./errors.js";

/**
 * Arithmetic that never answers NaN or infinity. The operands have met the
 * contract's rules (proto/calculator/v1: finite, no negative square root, no
 * zero divisor), checked before any call reaches a handler; what is left here
 * is what only the result can tell: it may be too large for a double.
 */

export function squareRoot(number: number): number {
  // Math.sqrt(-0) is -0; the contract promises a non-negative answer.
  return number === 0 ? 0 : Math.sqrt(number);
}

export function add(a: number, b: number): number {
  return checkResult(a, b, "+", a + b);
}

export function subtract(a: number, b: number): number {
  return checkResult(a, b, "-", a - b);
}

export function multiply(a: number, b: number): number {
  return checkResult(a, b, "*", a * b);
}

export function divide(a: number, b: number): number {
  return checkResult(a, b, "/", a / b);
}

function checkResult(a: number, b: number, operator: string, result: number): number {
  if (!Number.isFinite(result)) {
    throw new OutOfRangeError(`${a} ${operator} ${b} is too large for a double`);
  }
  return result;
}
