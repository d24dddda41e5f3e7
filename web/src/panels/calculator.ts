import { create } from "@bufbuild/protobuf";
import {
  AddRequestSchema,
  CalculatorService,
  DivideRequestSchema,
  MultiplyRequestSchema,
  SquareRootRequestSchema,
  SubtractRequestSchema,
} from "../../../gen/calculator/v1/calculator_pb.js";
import { client } from "../api.js";
import { byId } from "../dom.js";
import { clearError, showError, showProblem } from "../errors.js";
import { checkBeforeSending } from "../field-problem.js";
import { preloadRules } from "../rules.js";

type Operation = "squareRoot" | "add" | "subtract" | "multiply" | "divide";

const symbols: Record<Exclude<Operation, "squareRoot">, string> = { add: "+", subtract: "−", multiply: "×", divide: "÷" };

/**
 * Reads a number as typed. "NaN" and "Infinity" are numbers to JavaScript:
 * the contract's rules refuse them (below), as the server does; anything
 * else that is not a number is caught here.
 */
function parseNumber(text: string, what: string): number | string {
  const trimmed = text.trim();
  if (trimmed === "") return `Enter the ${what}.`;
  const value = Number(trimmed);
  if (Number.isNaN(value) && trimmed !== "NaN") return `The ${what} “${trimmed}” is not a number.`;
  return value;
}

export function setUpCalculator(): void {
  const form = byId("calc-form", HTMLFormElement);
  const a = byId("calc-a", HTMLInputElement);
  const b = byId("calc-b", HTMLInputElement);
  const op = byId("calc-op", HTMLSelectElement);
  const bField = byId("calc-b-field", HTMLDivElement);
  const result = byId("calc-result", HTMLOutputElement);
  const error = byId("calc-error", HTMLParagraphElement);
  const submit = form.querySelector("button[type=submit]") as HTMLButtonElement;

  const showOperands = () => {
    const unary = op.value === "squareRoot";
    bField.hidden = unary;
    b.disabled = unary;
  };
  op.addEventListener("change", showOperands);
  showOperands();
  // The rules load while a number is typed, not when it is sent.
  a.addEventListener("focus", preloadRules, { once: true });

  /** The request checked against its contract's rules, each problem shown next to its number. */
  const meetsRules = (operation: Operation, first: number, second: number): Promise<boolean> => {
    const operands = { a, b };
    switch (operation) {
      case "squareRoot":
        return checkBeforeSending(SquareRootRequestSchema, create(SquareRootRequestSchema, { number: first }), { number: a });
      case "add":
        return checkBeforeSending(AddRequestSchema, create(AddRequestSchema, { a: first, b: second }), operands);
      case "subtract":
        return checkBeforeSending(SubtractRequestSchema, create(SubtractRequestSchema, { a: first, b: second }), operands);
      case "multiply":
        return checkBeforeSending(MultiplyRequestSchema, create(MultiplyRequestSchema, { a: first, b: second }), operands);
      case "divide":
        return checkBeforeSending(DivideRequestSchema, create(DivideRequestSchema, { a: first, b: second }), operands);
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(error);
    result.value = "";
    const operation = op.value as Operation;
    const first = parseNumber(a.value, "first number");
    const second = operation === "squareRoot" ? 0 : parseNumber(b.value, "second number");
    if (typeof first === "string") return showProblem(error, first);
    if (typeof second === "string") return showProblem(error, second);
    if (!(await meetsRules(operation, first, second))) return;

    submit.disabled = true;
    try {
      const calculator = client(CalculatorService);
      if (operation === "squareRoot") {
        const { result: root } = await calculator.squareRoot({ number: first });
        result.value = `√${first} = ${root}`;
      } else {
        const { result: value } = await calculator[operation]({ a: first, b: second });
        result.value = `${first} ${symbols[operation]} ${second} = ${value}`;
      }
    } catch (failure) {
      showError(error, failure);
    } finally {
      submit.disabled = false;
    }
  });
}
