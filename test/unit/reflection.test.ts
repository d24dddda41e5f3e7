import assert from "node:assert/strict";
import { test } from "node:test";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { CalculatorService, file_calculator_v1_calculator } from "../../gen/calculator/v1/calculator_pb.js";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { file_greeter_v1_greeter, GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { file_health_v1_health } from "../../gen/health/v1/health_pb.js";
import { DescriptorIndex } from "../../server/reflection/descriptors.js";
import { type ReflectionAnswer, type ReflectionRequest, ReflectionSession } from "../../server/reflection/service.js";

const index = new DescriptorIndex([
  file_calculator_v1_calculator,
  file_greeter_v1_greeter,
  file_health_v1_health,
  file_google_rpc_error_details,
]);
const ask = (session: ReflectionSession, messageRequest: ReflectionRequest["messageRequest"]) =>
  session.answer({ host: "", messageRequest });

function fileNames(answer: ReflectionAnswer): string[] {
  assert.equal(answer.case, "fileDescriptorResponse", JSON.stringify(answer));
  return answer.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

test("files by name, with what they import", () => {
  assert.equal(index.fileByName("calculator/v1/calculator.proto"), file_calculator_v1_calculator);
  assert.equal(index.fileByName("google/protobuf/duration.proto")?.proto.package, "google.protobuf", "imports are indexed too");
  assert.equal(index.fileByName("calculator/v1/calculator"), undefined);
});

test("the file declaring a symbol: type, nested type, service, method, field, enum value", () => {
  const cases: Array<[string, string | undefined]> = [
    ["calculator.v1.CalculatorService", "calculator/v1/calculator.proto"],
    ["calculator.v1.CalculatorService.Divide", "calculator/v1/calculator.proto"],
    [".greeter.v1.BidiHelloRequest", "greeter/v1/greeter.proto"],
    ["greeter.v1.BidiHelloRequest.name", "greeter/v1/greeter.proto"],
    ["google.rpc.BadRequest.FieldViolation", "google/rpc/error_details.proto"],
    ["grpc.health.v1.HealthCheckResponse.ServingStatus", "health/v1/health.proto"],
    ["grpc.health.v1.HealthCheckResponse.SERVING", "health/v1/health.proto"],
    ["google.protobuf.Duration", "google/protobuf/duration.proto"],
    ["google.protobuf.NULL_VALUE", undefined],
    ["calculator.v1.CalculatorService.Nope", undefined],
    ["greeter.v1.BidiHelloRequest.nope", undefined],
    ["nothing", undefined],
  ];
  for (const [symbol, file] of cases) assert.equal(index.fileContainingSymbol(symbol)?.proto.name, file, symbol);
});

test("extensions: by number, and every number of a type (and top-level enum values)", () => {
  // A file declaring extensions, as protoc would describe it.
  const proto = create(FileDescriptorProtoSchema, {
    name: "test/extensions.proto",
    package: "test",
    syntax: "proto2",
    messageType: [{ name: "Extendable", extensionRange: [{ start: 100, end: 200 }] }],
    enumType: [{ name: "Color", value: [{ name: "COLOR_RED", number: 0 }] }],
    extension: [
      {
        name: "note",
        number: 150,
        label: FieldDescriptorProto_Label.OPTIONAL,
        type: FieldDescriptorProto_Type.STRING,
        extendee: ".test.Extendable",
      },
      {
        name: "level",
        number: 100,
        label: FieldDescriptorProto_Label.OPTIONAL,
        type: FieldDescriptorProto_Type.INT32,
        extendee: ".test.Extendable",
      },
    ],
  });
  const file = createFileRegistry(proto, () => undefined).getFile("test/extensions.proto");
  assert.ok(file, "the registry holds the file it was made from");
  const withExtensions = new DescriptorIndex([file, file_calculator_v1_calculator]);

  assert.equal(withExtensions.fileContainingExtension("test.Extendable", 150), file);
  assert.equal(withExtensions.fileContainingExtension("test.Extendable", 101), undefined);
  assert.equal(withExtensions.fileContainingExtension("test.Nothing", 150), undefined);
  assert.deepEqual(withExtensions.extensionNumbers("test.Extendable"), [100, 150]);
  assert.deepEqual(withExtensions.extensionNumbers("calculator.v1.SquareRootRequest"), []);
  assert.equal(withExtensions.extensionNumbers("test.Nothing"), undefined);
  assert.equal(withExtensions.fileContainingSymbol("test.note"), file);
  assert.equal(withExtensions.fileContainingSymbol("test.COLOR_RED"), file, "a top-level enum value, in its package's scope");
  assert.equal(withExtensions.fileContainingSymbol("test.COLOR_BLUE"), undefined);

  const session = new ReflectionSession(withExtensions, []);
  assert.deepEqual(
    fileNames(ask(session, { case: "fileContainingExtension", value: { containingType: "test.Extendable", extensionNumber: 100 } })),
    ["test/extensions.proto"],
  );
  assert.deepEqual(ask(session, { case: "allExtensionNumbersOfType", value: "test.Extendable" }), {
    case: "allExtensionNumbersResponse",
    value: { baseTypeName: "test.Extendable", extensionNumber: [100, 150] },
  });
});

test("a session sends each import once, and always the file asked for", () => {
  const session = new ReflectionSession(index, [CalculatorService, GreeterService]);
  assert.deepEqual(fileNames(ask(session, { case: "fileContainingSymbol", value: "google.rpc.RetryInfo" })), [
    "google/rpc/error_details.proto",
    "google/protobuf/duration.proto",
  ]);
  assert.deepEqual(fileNames(ask(session, { case: "fileByFilename", value: "google/rpc/error_details.proto" })), [
    "google/rpc/error_details.proto",
  ]);
  const fresh = new ReflectionSession(index, []);
  assert.equal(fileNames(ask(fresh, { case: "fileByFilename", value: "google/rpc/error_details.proto" })).length, 2);
});

test("descriptors round-trip: what a client decodes describes the service", () => {
  const session = new ReflectionSession(index, [GreeterService]);
  const answer = ask(session, { case: "fileContainingSymbol", value: "greeter.v1.GreeterService" });
  assert.equal(answer.case, "fileDescriptorResponse");
  const [encoded] = answer.value.fileDescriptorProto;
  assert.ok(encoded, "the answer holds the file asked for");
  const file = fromBinary(FileDescriptorProtoSchema, encoded);
  const service = file.service.find(({ name }) => name === "GreeterService");
  const bidi = service?.method.find(({ name }) => name === "BidiHello");
  assert.equal(bidi?.inputType, ".greeter.v1.BidiHelloRequest");
  assert.equal(bidi.clientStreaming, true);
  assert.equal(bidi.serverStreaming, true);
  assert.equal(
    file.messageType.find(({ name }) => name === "LotsOfRepliesRequest")?.field.find(({ number }) => number === 2)?.jsonName,
    "delayMs",
  );
});

test("list, not found, and an empty request", () => {
  const session = new ReflectionSession(index, [CalculatorService, GreeterService]);
  assert.deepEqual(ask(session, { case: "listServices", value: "" }), {
    case: "listServicesResponse",
    value: { service: [{ name: "calculator.v1.CalculatorService" }, { name: "greeter.v1.GreeterService" }] },
  });
  for (const request of [
    { case: "fileByFilename", value: "nope.proto" },
    { case: "fileContainingSymbol", value: "no.Such" },
    { case: "allExtensionNumbersOfType", value: "no.Such" },
  ] as const) {
    const answer = ask(session, request);
    assert.equal(answer.case, "errorResponse");
    assert.equal(answer.value.errorCode, Code.NotFound);
    assert.match(answer.value.errorMessage, /not found/);
  }
  const empty = ask(session, { case: undefined });
  assert.equal(empty.case, "errorResponse");
  assert.equal(empty.value.errorCode, Code.InvalidArgument);
});
