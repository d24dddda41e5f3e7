import { OutOfRangeError, ValidationError } from "./errors.js";

/** Arithmetic that never answers NaN or infinity. */

export function squareRoot(number: number, field = "number"): number {
  requireFinite(field, number);
  if (number < 0) {
    throw new ValidationError(field, "non_negative", `cannot take the square root of a negative number: ${field} is ${number}`);
  }
  // Math.sqrt(-0) is -0; the contract promises a non-negative answer.
  return number === 0 ? 0 : Math.sqrt(number);
}

export function add(a: number, b: number): number {
  return binary(a, b, "+", a + b);
}

export function subtract(a: number, b: number): number {
  return binary(a, b, "-", a - b);
}

export function multiply(a: number, b: number): number {
  return binary(a, b, "*", a * b);
}

export function divide(a: number, b: number): number {
  requireFinite("a", a);
  requireFinite("b", b);
  if (b === 0) {
    throw new ValidationError("b", "non_zero", `cannot divide by zero: b is ${b}`);
  }
  return checkResult(a, b, "/", a / b);
}

function binary(a: number, b: number, operator: string, result: number): number {
  requireFinite("a", a);
  requireFinite("b", b);
  return checkResult(a, b, operator, result);
}

function requireFinite(field: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new ValidationError(field, "finite", `${field} must be a finite number, got ${value}`);
  }
}

function checkResult(a: number, b: number, operator: string, result: number): number {
  if (!Number.isFinite(result)) {
    throw new OutOfRangeError(`${a} ${operator} ${b} is too large for a double`);
  }
  return result;
}
