import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { rejection } from "../support/assert.js";
import { routerTransport } from "../support/router.js";

const { transport } = await routerTransport();
const calculator = createClient(CalculatorService, transport);
const tutorial = createClient(Calculator, transport);

test("each method answers", async () => {
  assert.equal((await calculator.squareRoot({ number: 81 })).result, 9);
  assert.equal((await calculator.add({ a: 2, b: 3 })).result, 5);
  assert.equal((await calculator.subtract({ a: 2, b: 3 })).result, -1);
  assert.equal((await calculator.multiply({ a: 2, b: 3 })).result, 6);
  assert.equal((await calculator.divide({ a: 3, b: 2 })).result, 1.5);
  assert.equal((await tutorial.squareRoot({ value: 9 })).value, 3);
});

test("an empty request means zeros, as proto3 defines", async () => {
  assert.equal((await calculator.squareRoot({})).result, 0);
  assert.equal((await calculator.add({})).result, 0);
});

test("domain errors arrive as INVALID_ARGUMENT or OUT_OF_RANGE with the domain's message", async () => {
  const negative = await rejection(calculator.squareRoot({ number: -9 }));
  assert.equal(negative.code, Code.InvalidArgument);
  assert.equal(negative.rawMessage, "cannot take the square root of a negative number: number is -9");

  const byZero = await rejection(calculator.divide({ a: 1, b: 0 }));
  assert.equal(byZero.code, Code.InvalidArgument);
  assert.equal(byZero.rawMessage, "cannot divide by zero: b is 0");

  const overflow = await rejection(calculator.add({ a: Number.MAX_VALUE, b: Number.MAX_VALUE }));
  assert.equal(overflow.code, Code.OutOfRange);

  const tutorialNaN = await rejection(tutorial.squareRoot({ value: NaN }));
  assert.equal(tutorialNaN.code, Code.InvalidArgument);
  assert.equal(tutorialNaN.rawMessage, "value must be a finite number, got NaN");
});
