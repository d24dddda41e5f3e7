import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { DomainError, type DomainErrorKind, ValidationError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { observeCall } from "./observe.js";

const codeByKind: Record<DomainErrorKind, Code> = {
  invalid: Code.InvalidArgument,
  "out-of-range": Code.OutOfRange,
  "not-found": Code.NotFound,
  "already-exists": Code.AlreadyExists,
  conflict: Code.Aborted,
  unavailable: Code.Unavailable,
  exhausted: Code.ResourceExhausted,
};

/**
 * The one translation from what handlers throw to what clients see. Domain
 * errors keep their message and get their status code; a validation error
 * also carries a google.rpc.BadRequest detail naming the field and the rule
 * it broke (its reason, in UPPER_SNAKE_CASE), for clients that act on it; a
 * call that was cancelled or ran out of time reports that; anything
 * unexpected is logged with its stack and reaches the client as a bare
 * INTERNAL, so no internals leak.
 */
export function toConnectError(error: unknown, signal: AbortSignal, logger: Logger): ConnectError {
  if (error instanceof DomainError) {
    const details = error instanceof ValidationError ? [badRequest(error)] : [];
    return new ConnectError(error.message, codeByKind[error.kind], undefined, details, error);
  }
  if (signal.aborted) return whyCallEnded(signal.reason);
  if (error instanceof ConnectError) return error;
  logger.error({ err: error }, "unexpected error in handler");
  return new ConnectError("internal error", Code.Internal);
}

/**
 * Our own deadline and our shutdown give their reason. Any other end is the
 * client leaving: it reset the stream (some clients reset with INTERNAL_ERROR
 * when their own deadline passes) or closed the connection. Like gRPC, call
 * that CANCELED, so the log blames no server fault.
 */
function whyCallEnded(reason: unknown): ConnectError {
  const error = ConnectError.from(reason, Code.Canceled);
  if ([Code.Canceled, Code.DeadlineExceeded, Code.Unavailable].includes(error.code)) return error;
  return new ConnectError(`the client ended the call: ${error.rawMessage}`, Code.Canceled, undefined, undefined, reason);
}

function badRequest({ field, rule, message }: ValidationError) {
  return {
    desc: BadRequestSchema,
    value: { fieldViolations: [{ field, description: message, reason: rule.toUpperCase() }] },
  };
}

export function errorMappingInterceptor(logger: Logger): Interceptor {
  return observeCall({ onError: (error, signal) => toConnectError(error, signal, logger) });
}
