import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { firstProblem, type Problem } from "./rules.js";

/**
 * Checks `message` against its contract's rules before it is sent, and shows
 * the first problem next to the input of the field it names (the
 * `fields` map, by the field's name in the .proto file), marking the input
 * invalid for assistive technology. Resolves true when the request may be
 * sent; clears what an earlier check showed.
 */
export async function checkBeforeSending<S extends DescMessage>(
  schema: S,
  message: MessageShape<S>,
  fields: Readonly<Record<string, HTMLInputElement | HTMLSelectElement>>,
): Promise<boolean> {
  for (const input of Object.values(fields)) clear(input);
  const problem = await firstProblem(schema, message);
  if (problem === undefined) return true;
  const input = fields[problem.field];
  if (input === undefined) return true; // not a field of this form: the server answers it
  show(input, problem);
  return false;
}

function problemElement(input: HTMLElement): HTMLElement | null {
  return document.getElementById(`${input.id}-problem`);
}

function show(input: HTMLInputElement | HTMLSelectElement, problem: Problem): void {
  input.setAttribute("aria-invalid", "true");
  const target = problemElement(input);
  if (target === null) return;
  target.textContent = problem.message;
  target.hidden = false;
}

function clear(input: HTMLInputElement | HTMLSelectElement): void {
  input.removeAttribute("aria-invalid");
  const target = problemElement(input);
  if (target === null) return;
  target.textContent = "";
  target.hidden = true;
}
