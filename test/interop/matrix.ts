import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createRegistry, type DescMethod, fromBinary, fromJson, getExtension, type JsonValue, toJson } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { field as fieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { CalculatorService, file_calculator_v1_calculator } from "../../gen/calculator/v1/calculator_pb.js";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { file_greeter_v1_greeter, GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { file_grpc_reflection_v1_reflection, ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_health_v1_health } from "../../gen/health/v1/health_pb.js";
import { file_movie_v1_movie } from "../../gen/movie/v1/movie_pb.js";
import { file_order_v1_order } from "../../gen/order/v1/order_pb.js";
import { file_tutorial_calculator_calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { file_tutorial_hello_hello } from "../../gen/tutorial/hello/hello_pb.js";
import { file_tutorial_helloworld_helloworld } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { file_tutorial_movie_movie } from "../../gen/tutorial/movie/movie_pb.js";
import { file_tutorial_order_order } from "../../gen/tutorial/order/order_pb.js";
import { rejection } from "../support/assert.js";
import type { CallCounter, ServerProcess } from "./server-process.js";
import { type ProcedureCase, procedureCases, registeredServices } from "./services.js";

const protocols = ["grpc", "grpc-web", "connect"] as const;
const codecs = [
  { name: "binary", useBinaryFormat: true },
  { name: "JSON", useBinaryFormat: false },
] as const;
const compressions: ReadonlyArray<Compression | undefined> = [undefined, compressionGzip, compressionBrotli];

/** Every contract the server serves, to look up a procedure case's method by name. */
const contracts = createRegistry(
  file_calculator_v1_calculator,
  file_greeter_v1_greeter,
  file_movie_v1_movie,
  file_order_v1_order,
  file_tutorial_calculator_calculator,
  file_tutorial_hello_hello,
  file_tutorial_helloworld_helloworld,
  file_tutorial_movie_movie,
  file_tutorial_order_order,
  file_health_v1_health,
  file_grpc_reflection_v1_reflection,
);

/**
 * Runs a procedure case with a generated connect-node client; requests and
 * answers go through the proto JSON mapping, as the cases are written in it.
 */
async function callCase(transport: Transport, { procedure, kind, requests, deadlineMs }: ProcedureCase): Promise<unknown[]> {
  const [serviceName, methodName] = procedure.split("/") as [string, string];
  const service = contracts.getService(serviceName) ?? assert.fail(`no contract for ${serviceName}`);
  const method: DescMethod = service.methods.find(({ name }) => name === methodName) ?? assert.fail(`no method ${procedure}`);
  const client = createClient(service, transport) as unknown as Record<string, (input: unknown, options?: object) => unknown>;
  const call = client[method.localName]?.bind(client) ?? assert.fail(`no client method for ${procedure}`);
  const inputs = requests.map((request) => fromJson(method.input, request as JsonValue));
  const options = deadlineMs === undefined ? {} : { timeoutMs: deadlineMs };
  const answer = (message: unknown) => toJson(method.output, message as never, { registry: contracts });
  const stream = (async function* () {
    yield* inputs;
  })();
  if (kind === "unary") return [answer(await (call(inputs[0], options) as Promise<unknown>))];
  if (kind === "client") return [answer(await (call(stream, options) as Promise<unknown>))];
  const responses: unknown[] = [];
  try {
    for await (const response of call(kind === "server" ? inputs[0] : stream, options) as AsyncIterable<unknown>)
      responses.push(answer(response));
  } catch (error) {
    // A stream that never ends by itself ends at its deadline, after what it sent.
    if (deadlineMs === undefined || ConnectError.from(error).code !== Code.DeadlineExceeded) throw error;
    return responses;
  }
  if (deadlineMs !== undefined) assert.fail(`${procedure} ended before its deadline`);
  return responses;
}

/** The header that names the encoding of the answer, per protocol and stream type. */
function encodingHeader(protocol: (typeof protocols)[number], streaming: boolean): string {
  if (protocol !== "connect") return "grpc-encoding";
  return streaming ? "connect-content-encoding" : "content-encoding";
}

/**
 * Every stream type by protocol by codec by compression, all over HTTP/2 (as
 * bidirectional streaming needs), with connect-node's clients. Requests are
 * compressed however small (compressMinBytes 0); the server compresses what
 * is over its minimum size, such as a greeting of 300 names.
 */
export function protocolMatrixSuite(server: () => ServerProcess, counter: CallCounter): void {
  describe("protocol × codec × compression × stream type", () => {
    const sessions: Http2SessionManager[] = [];
    after(() => {
      for (const session of sessions) session.abort();
    });

    const transportFor = (
      protocol: (typeof protocols)[number],
      useBinaryFormat: boolean,
      compression: Compression | undefined,
      interceptors: Interceptor[] = [],
    ): Transport => {
      const sessionManager = new Http2SessionManager(server().baseUrl);
      sessions.push(sessionManager);
      const options = {
        baseUrl: server().baseUrl,
        sessionManager,
        useBinaryFormat,
        sendCompression: compression,
        acceptCompression: compression ? [compression] : [],
        compressMinBytes: 0,
        interceptors,
      };
      if (protocol === "grpc") return createGrpcTransport(options);
      if (protocol === "grpc-web") return createGrpcWebTransport({ ...options, httpVersion: "2" });
      return createConnectTransport({ ...options, httpVersion: "2" });
    };

    for (const protocol of protocols) {
      for (const codec of codecs) {
        for (const compression of compressions) {
          test(`${protocol}, ${codec.name}, ${compression?.name ?? "identity"}`, async () => {
            const answerEncodings: Array<string | null> = [];
            const recordEncoding: Interceptor = (next) => async (req) => {
              const res = await next(req);
              answerEncodings.push(res.header.get(encodingHeader(protocol, res.stream)));
              return res;
            };
            const greeter = createClient(GreeterService, transportFor(protocol, codec.useBinaryFormat, compression, [recordEncoding]));

            assert.equal((await greeter.sayHello({ name: "Unary" })).message, "Hello, Unary!");
            const replies = [];
            for await (const reply of greeter.lotsOfReplies({ name: "Server" })) replies.push(reply.language);
            assert.equal(replies.length, 7);
            const together = await greeter.lotsOfGreetings(
              (async function* () {
                yield { name: "Client" };
                yield { name: "Stream" };
              })(),
            );
            assert.equal(together.message, "Hello, Client and Stream!");
            const answers = [];
            for await (const answer of greeter.bidiHello(
              (async function* () {
                yield { name: "Bidi" };
                yield { name: "Stream" };
              })(),
            ))
              answers.push(answer.message);
            assert.deepEqual(answers, ["Hello, Bidi!", "Hello, Stream!"]);

            // A large answer (about 3.5 kB) is compressed with what the client accepts.
            answerEncodings.length = 0;
            const crowd = Array.from({ length: 300 }, (_, i) => ({ name: `Person${i}` }));
            const large = await greeter.lotsOfGreetings(
              (async function* () {
                yield* crowd;
              })(),
            );
            assert.equal(large.count, 300);
            assert.ok(large.message.endsWith("and Person299!"));
            assert.deepEqual(answerEncodings, [compression?.name ?? null]);
            counter.add("connect-node clients (matrix)", 5);
          });
        }
      }
    }

    for (const protocol of protocols) {
      for (const codec of codecs) {
        test(`every procedure case over ${protocol}, ${codec.name}`, async () => {
          const transport = transportFor(protocol, codec.useBinaryFormat, compressionGzip);
          for (const call of procedureCases) {
            const what = `${protocol} ${codec.name}: ${call.procedure} ${JSON.stringify(call.requests)}`;
            if ("code" in call.expect) {
              const error = await rejection(callCase(transport, call));
              assert.equal(error.code, call.expect.code, what);
              assert.match(error.rawMessage, call.expect.message, what);
            } else {
              call.expect.check(await callCase(transport, call), what);
            }
            counter.add("connect-node clients (matrix)");
          }
        });
      }
    }

    for (const protocol of protocols) {
      test(`validation errors carry google.rpc.BadRequest over ${protocol}`, async () => {
        for (const codec of codecs) {
          const calculator = createClient(CalculatorService, transportFor(protocol, codec.useBinaryFormat, undefined));
          const error = await rejection(calculator.divide({ a: 1, b: 0 }));
          assert.equal(error.code, Code.InvalidArgument);
          const [badRequest] = error.findDetails(BadRequestSchema);
          assert.deepEqual(
            badRequest?.fieldViolations.map(({ field, reason, description }) => ({ field, reason, description })),
            [{ field: "b", reason: "NON_ZERO", description: "cannot divide by zero: b is 0" }],
          );
          // The same details come back for an error inside a stream.
          const greeter = createClient(GreeterService, transportFor(protocol, codec.useBinaryFormat, undefined));
          const streamed = await rejection(
            (async () => {
              for await (const _ of greeter.lotsOfReplies({ name: "" })) assert.fail("no greeting for an empty name");
            })(),
          );
          assert.deepEqual(
            streamed.findDetails(BadRequestSchema)[0]?.fieldViolations.map(({ field, reason }) => ({ field, reason })),
            [{ field: "name", reason: "REQUIRED" }],
          );
          counter.add("connect-node clients (matrix)", 2);
        }
      });
    }

    for (const protocol of protocols) {
      test(`reflection v1 and v1alpha over ${protocol}`, async () => {
        for (const service of [ReflectionV1, ReflectionV1Alpha]) {
          const reflection = createClient(service, transportFor(protocol, true, compressionGzip));
          const requests = [
            { messageRequest: { case: "listServices", value: "" } },
            { messageRequest: { case: "fileContainingSymbol", value: "greeter.v1.GreeterService.BidiHello" } },
            { messageRequest: { case: "fileByFilename", value: "tutorial/calculator/calculator.proto" } },
            { messageRequest: { case: "fileContainingSymbol", value: "google.rpc.BadRequest.FieldViolation" } },
            { messageRequest: { case: "fileContainingSymbol", value: "nothing.Here" } },
            { messageRequest: { case: "fileByFilename", value: "nothing/here.proto" } },
            { messageRequest: { case: "allExtensionNumbersOfType", value: "calculator.v1.SquareRootRequest" } },
            {
              messageRequest: {
                case: "fileContainingExtension",
                value: { containingType: "calculator.v1.SquareRootRequest", extensionNumber: 100 },
              },
            },
          ] as const;
          const answers = [];
          for await (const answer of reflection.serverReflectionInfo(
            (async function* () {
              yield* requests;
            })(),
          ))
            answers.push(answer.messageResponse);
          const [list, bidiFile, tutorialFile, detailsFile, unknownSymbol, unknownFile, extensionNumbers, unknownExtension] = answers;
          assert.equal(list?.case, "listServicesResponse");
          assert.deepEqual(list.value.service.map(({ name }) => name).sort(), [...registeredServices].sort());
          assert.equal(bidiFile?.case, "fileDescriptorResponse");
          // greeter.proto, then what it imports: buf/validate/validate.proto and the well-known types that imports.
          const files = bidiFile.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
          assert.equal(files[0]?.name, "greeter/v1/greeter.proto");
          assert.ok(
            files.some(({ name }) => name === "buf/validate/validate.proto"),
            `validate.proto is served with greeter.proto: ${files.map(({ name }) => name).join(", ")}`,
          );
          // The rules travel with the contract: a client reading it through reflection reads them too.
          const name = files[0]?.messageType
            .find((message) => message.name === "SayHelloRequest")
            ?.field.find((field) => field.name === "name");
          assert.ok(name?.options !== undefined, "SayHelloRequest.name has options");
          const rules = getExtension(name.options, fieldRules).cel.map(({ id, expression }) => ({ id, expression }));
          assert.deepEqual(
            rules.map(({ id }) => id),
            ["required", "max_length", "no_control_characters"],
          );
          assert.match(rules[1]?.expression ?? "", /'name cannot be more than 10 characters, got ' \+ string\(this\.size\(\)\)/);
          assert.equal(tutorialFile?.case, "fileDescriptorResponse");
          assert.equal(detailsFile?.case, "fileDescriptorResponse");
          // error_details.proto, and the duration.proto it imports unless greeter.proto's imports
          // brought it already: a reflection stream sends each file once.
          const detailsFiles = detailsFile.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
          assert.equal(detailsFiles[0], "google/rpc/error_details.proto");
          assert.deepEqual(
            [...files.map(({ name }) => name), ...detailsFiles].filter((name) => name === "google/protobuf/duration.proto"),
            ["google/protobuf/duration.proto"],
          );
          for (const missing of [unknownSymbol, unknownFile, unknownExtension]) {
            assert.equal(missing?.case, "errorResponse");
            assert.equal(missing.value.errorCode, Code.NotFound);
          }
          assert.equal(extensionNumbers?.case, "allExtensionNumbersResponse");
          assert.deepEqual(extensionNumbers.value.extensionNumber, []);
          counter.add("connect-node clients (matrix)");
        }
      });
    }
  });
}
