import type { DescMessage, Message } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, type Violation } from "@bufbuild/protovalidate";
import { ValidationError } from "../domain/errors.js";
import { refuseUnbounded } from "../wire/text-bounds.js";
import { regexMatch } from "./regex-match.js";

/**
 * A request of a contract that carries no rules of its own (the tutorials'
 * files are theirs, kept byte for byte), as the canonical request it stands
 * for, whose rules then apply.
 */
export interface CanonicalRequest {
  readonly schema: DescMessage;
  readonly message: Message;
  /** The caller's name for a canonical field, where the two differ ("number" is the tutorial's "value"). */
  readonly renamed?: Readonly<Record<string, string>>;
}

/** By the full name of a request message without rules: how to see it as a canonical request. */
export type CanonicalViews = ReadonlyMap<string, (message: Message) => CanonicalRequest>;

/**
 * The rules a request message must meet: those written as buf.validate
 * options in its contract, checked by protovalidate, after the cheap bounds
 * on its text (wire/text-bounds.ts). protovalidate compiles the rules of a
 * message type the first time it sees one and keeps them; their patterns run
 * on V8's regular expressions (regex-match.ts). It stops at the
 * first violation, so a request breaking several rules reports one, as the
 * hand-written checks did.
 */
export class RequestRules {
  private readonly validator = createValidator({ failFast: true, regexMatch });

  constructor(private readonly views: CanonicalViews = new Map()) {}

  /**
   * Throws a ValidationError naming the first field of `message` (of type
   * `schema`) that breaks a rule; a rule that cannot run throws its
   * RuntimeError, a fault of ours. (The benchmark finds the validation
   * step's share of the server's CPU by this name in a profile.)
   */
  checkRequest(schema: DescMessage, message: Message): void {
    const view = this.views.get(schema.typeName);
    if (view === undefined) {
      this.checkAgainst(schema, message, undefined);
      return;
    }
    const canonical = view(message);
    this.checkAgainst(canonical.schema, canonical.message, canonical.renamed);
  }

  private checkAgainst(schema: DescMessage, message: Message, renamed: CanonicalRequest["renamed"]): void {
    try {
      refuseUnbounded(message);
    } catch (error) {
      throw error instanceof ValidationError && renamed !== undefined ? rename(error, renamed) : error;
    }
    const result = this.validator.validate(schema, message);
    if (result.kind === "valid") return;
    if (result.kind === "error") throw result.error;
    const [violation] = result.violations;
    if (violation === undefined) return;
    const error = toValidationError(violation);
    throw renamed === undefined ? error : rename(error, renamed);
  }
}

/** A violation as the domain's ValidationError, which the error mapping answers with google.rpc.BadRequest. */
function toValidationError(violation: Violation): ValidationError {
  return new ValidationError(pathToString(violation.field), violation.ruleId, violation.message);
}

/**
 * The same error in the caller's words: its field, and the field's name where
 * the message starts with it or says "field is" ("cannot take the square
 * root of a negative number: value is -1").
 */
function rename(error: ValidationError, renamed: Readonly<Record<string, string>>): ValidationError {
  const field = renamed[error.field];
  if (field === undefined) return error;
  const message = error.message.replace(new RegExp(`(^|: )${error.field}(?= )`), `$1${field}`);
  return new ValidationError(field, error.rule, message);
}
