import { CalculatorService } from "../../../gen/calculator/v1/calculator_pb.js";
import { client } from "../api.js";
import { byId } from "../dom.js";
import { clearError, showError, showProblem } from "../errors.js";

type Operation = "squareRoot" | "add" | "subtract" | "multiply" | "divide";

const symbols: Record<Exclude<Operation, "squareRoot">, string> = { add: "+", subtract: "−", multiply: "×", divide: "÷" };

/**
 * Reads a number as typed. "NaN" and "Infinity" are let through on purpose so
 * the server's own validation can be seen; anything else that is not a number
 * is caught here.
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

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(error);
    result.value = "";
    const operation = op.value as Operation;
    const first = parseNumber(a.value, "first number");
    const second = operation === "squareRoot" ? 0 : parseNumber(b.value, "second number");
    if (typeof first === "string") return showProblem(error, first);
    if (typeof second === "string") return showProblem(error, second);

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
