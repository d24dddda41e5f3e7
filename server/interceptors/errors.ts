import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { DomainError, type DomainErrorKind, ValidationError } from "../domain/errors.js";
import { preview } from "../domain/text.js";
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
export function toConnectError(error: unknown, signal: AbortSignal, logger: Logger, method?: DescMethod): ConnectError {
  if (error instanceof DomainError) {
    const details = error instanceof ValidationError ? [badRequest(error)] : [];
    return new ConnectError(error.message, codeByKind[error.kind], undefined, details, error);
  }
  if (signal.aborted) return whyCallEnded(signal.reason);
  if (error instanceof ConnectError) return withShortMessage((method && explainUnreadableRequest(error, method)) ?? error);
  logger.error({ err: error }, "unexpected error in handler");
  return new ConnectError("internal error", Code.Internal);
}

/** Longest message a client (and the call log) gets; longer ones are cut, so no echoed input can make them huge. */
const maxMessageLength = 300;

export function withShortMessage(error: ConnectError): ConnectError {
  // A lone surrogate (from a client's JSON such as "\ud800" quoted back)
  // cannot be percent-encoded into grpc-message: connect-es would throw
  // while writing the trailers and the call would never end.
  if (error.rawMessage.length <= maxMessageLength && error.rawMessage.isWellFormed()) return error;
  const short = new ConnectError(
    preview(error.rawMessage, maxMessageLength).toWellFormed(),
    error.code,
    error.metadata,
    undefined,
    error.cause,
  );
  short.details.push(...error.details);
  return short;
}

/**
 * connect-es reports a request it cannot read in its own words, and calls
 * some of them INTERNAL ("parse binary: premature EOF"), which is a fault of
 * ours. They are the client's: each gets the code connect-go gives
 * (INVALID_ARGUMENT for a message that cannot be decoded, decompressed or
 * unframed; UNIMPLEMENTED for the wrong number of messages, as the gRPC
 * status code table says) and a message for people that names what was
 * expected. The library's wording stays in the error's cause, for the log.
 * Returns undefined for any other error.
 */
export function explainUnreadableRequest(error: ConnectError, method: DescMethod): ConnectError | undefined {
  const text = error.rawMessage;
  const input = method.input.typeName;
  const invalid = (message: string) => new ConnectError(message, Code.InvalidArgument, error.metadata, undefined, error);
  if (text.startsWith("parse binary: ")) {
    return invalid(`the request message is not valid binary protobuf for ${input}`);
  }
  const json = /^cannot decode (?:message \S+|field (\S+)|enum \S+) from JSON: (.*)$/s.exec(text);
  if (error.code === Code.InvalidArgument && json !== null) {
    const [, field, problem = ""] = json;
    const where = field === undefined ? "" : `field ${field.startsWith(`${input}.`) ? field.slice(input.length + 1) : field}: `;
    return invalid(preview(`the request message is not valid JSON for ${input}: ${where}${problem}`, maxMessageLength));
  }
  if (text === "protocol error: incomplete envelope") {
    return invalid(
      "the request ends in the middle of a message: each message is framed as 1 flags byte, a 4-byte big-endian length, then that many bytes",
    );
  }
  const promised = /^protocol error: promised (\d+) bytes, received \d+$/.exec(text);
  if (promised !== null) {
    return invalid(`the request body is not as long as its Content-Length header says (${promised[1]} bytes)`);
  }
  if (text === "received compressed envelope, but do not know how to decompress") {
    // The client's fault, but gRPC's compression spec prescribes INTERNAL for
    // exactly this case (as connect-go and grpc-go answer); only the words change.
    return new ConnectError(
      "a request message is flagged as compressed, but the request names no compression: set grpc-encoding (gRPC, gRPC-Web) or connect-content-encoding (Connect streams), or send it uncompressed",
      Code.Internal,
      error.metadata,
      undefined,
      error,
    );
  }
  if (text === "decompression failed") {
    return invalid("the request message cannot be decompressed: it is not valid data for the compression the request names");
  }
  if (text === "unexpected end flag") {
    return invalid("a request message carries the end-of-stream flag (0x02), which only responses may use");
  }
  const count = /^protocol error: (missing|received extra) input message for /.exec(text);
  if (count !== null) {
    const procedure = `${method.parent.typeName}/${method.name}`;
    const message =
      count[1] === "missing"
        ? `missing input message: ${procedure} takes exactly one request message, and the request had none`
        : `${procedure} takes exactly one request message, and the request had more than one`;
    return new ConnectError(message, Code.Unimplemented, error.metadata, undefined, error);
  }
  return undefined;
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
  return observeCall({ onError: (error, signal, req) => toConnectError(error, signal, logger, req.method) });
}
