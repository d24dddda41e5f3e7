import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import type { Validator } from "@bufbuild/protovalidate";

/** The first rule of a request's contract it breaks: the field (its name in the .proto file) and what is wrong. */
export interface Problem {
  readonly field: string;
  readonly message: string;
}

let validator: Promise<Validator> | undefined;

/**
 * Checks a request against the rules of its contract (the buf.validate
 * options in proto/), with protovalidate, the library the server checks it
 * with, so the page refuses what the server would refuse, in the same words,
 * without a round trip. protovalidate and its CEL and RE2 engines are about
 * as large as the rest of the page: they load in a chunk of their own the
 * first time a form is sent (or `preloadRules` is called), not with the page.
 * Resolves undefined when the request meets every rule, or when the rules
 * cannot be checked here (the server still checks them).
 */
export async function firstProblem<S extends DescMessage>(schema: S, message: MessageShape<S>): Promise<Problem | undefined> {
  let result: ReturnType<Validator["validate"]>;
  try {
    result = (await loadValidator()).validate(schema, message);
  } catch {
    return undefined;
  }
  if (result.kind !== "invalid") return undefined;
  const [violation] = result.violations;
  return violation === undefined ? undefined : { field: pathToString(violation.field), message: violation.message };
}

/** Starts loading the validator, for a form the user is about to send. */
export function preloadRules(): void {
  void loadValidator().catch(() => undefined);
}

function loadValidator(): Promise<Validator> {
  // One validator: it compiles the rules of each message type once.
  validator ??= import("@bufbuild/protovalidate").then(({ createValidator }) => createValidator({ failFast: true }));
  return validator;
}
