import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  OutOfRangeError,
  UnavailableError,
  ValidationError,
} from "../../server/domain/errors.js";
import { toConnectError } from "../../server/interceptors/errors.js";
import { memoryLogger } from "../support/logs.js";

function capturingLogger() {
  const { logger, logs } = memoryLogger();
  return { logger, lines: logs };
}

const live = new AbortController().signal;

test("each domain error kind maps to one status code and keeps its message", () => {
  const { logger, lines } = capturingLogger();
  const cases: Array<[Error, Code]> = [
    [new ValidationError("name", "required", "name must not be empty"), Code.InvalidArgument],
    [new OutOfRangeError("too large"), Code.OutOfRange],
    [new NotFoundError("no such movie"), Code.NotFound],
    [new AlreadyExistsError("exists"), Code.AlreadyExists],
    [new ConflictError("stale"), Code.Aborted],
    [new UnavailableError("database down"), Code.Unavailable],
  ];
  for (const [error, code] of cases) {
    const mapped = toConnectError(error, live, logger);
    assert.equal(mapped.code, code, error.constructor.name);
    assert.equal(mapped.rawMessage, error.message);
  }
  assert.deepEqual(lines, [], "expected errors are not logged as faults");
});

test("a ConnectError passes through unchanged", () => {
  const { logger } = capturingLogger();
  const original = new ConnectError("nope", Code.PermissionDenied);
  assert.equal(toConnectError(original, live, logger), original);
});

test("an unexpected error is a bare INTERNAL for the client and a logged stack for us", () => {
  const { logger, lines } = capturingLogger();
  const mapped = toConnectError(new TypeError("secret detail"), live, logger);
  assert.equal(mapped.code, Code.Internal);
  assert.equal(mapped.rawMessage, "internal error");
  assert.equal(lines.length, 1);
  const record = lines[0] as { level: number; err?: { message: string; stack: string } } | undefined;
  assert.equal(record?.level, 50);
  assert.equal(record.err?.message, "secret detail");
  assert.match(record.err?.stack ?? "", /TypeError/);
});

test("an error caused by the call ending reports why it ended", () => {
  const { logger, lines } = capturingLogger();
  const cancelled = new AbortController();
  cancelled.abort(new ConnectError("client went away", Code.Canceled));
  assert.equal(toConnectError(new Error("aborted read"), cancelled.signal, logger).code, Code.Canceled);
  const timedOut = new AbortController();
  timedOut.abort(new ConnectError("deadline", Code.DeadlineExceeded));
  assert.equal(toConnectError(new Error("aborted"), timedOut.signal, logger).code, Code.DeadlineExceeded);
  const shutdown = new AbortController();
  shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable));
  assert.equal(toConnectError(new Error("aborted"), shutdown.signal, logger).code, Code.Unavailable);
  // A client reset such as RST_STREAM(INTERNAL_ERROR) is the client leaving, not a server fault.
  const reset = new AbortController();
  reset.abort(new ConnectError("http/2 stream closed with error code INTERNAL_ERROR (0x2)", Code.Internal));
  const mapped = toConnectError(new ConnectError("read failed", Code.Internal), reset.signal, logger);
  assert.equal(mapped.code, Code.Canceled);
  assert.match(mapped.rawMessage, /^the client ended the call: http\/2 stream closed/);
  assert.deepEqual(lines, []);
});
