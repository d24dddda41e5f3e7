import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  OutOfRangeError,
  UnavailableError,
  ValidationError,
} from "../../server/domain/errors.js";
import { explainUnreadableRequest, toConnectError, withShortMessage } from "../../server/interceptors/errors.js";
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

describe("what connect-es says about a request it cannot read, retold for people", () => {
  const sayHello = GreeterService.method.sayHello;
  const explain = (message: string, code: Code) => explainUnreadableRequest(new ConnectError(message, code), sayHello);

  test("undecodable binary is INVALID_ARGUMENT naming the message type, never the parser's words", () => {
    for (const parserSays of ["premature EOF", "Offset is outside the bounds of the DataView", "illegal tag: field no 1 wire type 7"]) {
      const explained = explain(`parse binary: ${parserSays}`, Code.Internal);
      assert.equal(explained?.code, Code.InvalidArgument);
      assert.equal(explained.rawMessage, "the request message is not valid binary protobuf for greeter.v1.SayHelloRequest");
      assert.ok(explained.cause instanceof ConnectError, "the library's wording stays as the cause, for the log");
    }
  });

  test("undecodable JSON is INVALID_ARGUMENT with what is wrong, bounded", () => {
    assert.equal(
      explain('cannot decode message greeter.v1.SayHelloRequest from JSON: key "nmae" is unknown', Code.InvalidArgument)?.rawMessage,
      'the request message is not valid JSON for greeter.v1.SayHelloRequest: key "nmae" is unknown',
    );
    assert.equal(
      explain("cannot decode field greeter.v1.SayHelloRequest.name from JSON: expected string, got 5", Code.InvalidArgument)?.rawMessage,
      "the request message is not valid JSON for greeter.v1.SayHelloRequest: field name: expected string, got 5",
    );
    const echoed = explain(`cannot decode field greeter.v1.SayHelloRequest.name from JSON: ${"x".repeat(100_000)}`, Code.InvalidArgument);
    assert.ok((echoed?.rawMessage.length ?? Number.POSITIVE_INFINITY) <= 301);
  });

  test("framing, compression and message count faults", () => {
    const cases: Array<[string, Code, Code, RegExp]> = [
      ["protocol error: incomplete envelope", Code.InvalidArgument, Code.InvalidArgument, /^the request ends in the middle of a message/],
      [
        "protocol error: promised 10 bytes, received 4",
        Code.InvalidArgument,
        Code.InvalidArgument,
        /Content-Length header says \(10 bytes\)$/,
      ],
      ["received compressed envelope, but do not know how to decompress", Code.Internal, Code.Internal, /names no compression/],
      ["decompression failed", Code.Internal, Code.InvalidArgument, /cannot be decompressed/],
      ["unexpected end flag", Code.InvalidArgument, Code.InvalidArgument, /end-of-stream flag/],
      [
        "protocol error: missing input message for unary method",
        Code.Unimplemented,
        Code.Unimplemented,
        /^missing input message: greeter\.v1\.GreeterService\/SayHello takes exactly one request message, and the request had none$/,
      ],
      ["protocol error: received extra input message for unary method", Code.Unimplemented, Code.Unimplemented, /had more than one$/],
    ];
    for (const [libraryText, libraryCode, code, message] of cases) {
      const explained = explain(libraryText, libraryCode);
      assert.equal(explained?.code, code, libraryText);
      assert.match(explained.rawMessage, message);
    }
  });

  test("anything else is left alone", () => {
    assert.equal(explain("message size 5000 is larger than configured readMaxBytes 1024", Code.ResourceExhausted), undefined);
    assert.equal(explain("cannot decode message from JSON: hand-written", Code.Internal), undefined);
  });

  test("inside a call, the mapping applies it, and cuts any other long message", () => {
    const { logger } = capturingLogger();
    const parse = toConnectError(new ConnectError("parse binary: premature EOF", Code.Internal), live, logger, sayHello);
    assert.equal(parse.code, Code.InvalidArgument);
    const long = toConnectError(
      new ConnectError(`unknown compression "${"z".repeat(10_000)}"`, Code.Unimplemented),
      live,
      logger,
      sayHello,
    );
    assert.equal(long.code, Code.Unimplemented);
    assert.ok(long.rawMessage.length <= 301);
    assert.equal(withShortMessage(new ConnectError("short", Code.Unknown)).rawMessage, "short");
  });
});
