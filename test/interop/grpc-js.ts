import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createRegistry, fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { BadRequestSchema, file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { type CallCounter, repoRoot, type ServerProcess } from "./server-process.js";
import { procedureCases, type StreamKind } from "./services.js";

const protoDir = join(repoRoot, "proto");
const healthDir = join(repoRoot, "node_modules/grpc-health-check/proto");
const reflectionDir = join(repoRoot, "node_modules/@grpc/reflection/build/proto");
/** The contracts import buf/validate/validate.proto for their rules: a grpc-js user puts it on the include path too. */
const protovalidateDir = join(repoRoot, "third_party/protovalidate");
/** And google/api/annotations.proto for their REST routes. */
const googleapisDir = join(repoRoot, "third_party/googleapis");

/** Loads every contract from .proto files at run time, the way grpc-js users do; no reflection, no generated code. */
function loadContracts(): protoLoader.PackageDefinition {
  const ours = readdirSync(protoDir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".proto"));
  return protoLoader.loadSync([...ours, "health/v1/health.proto", "grpc/reflection/v1/reflection.proto"], {
    includeDirs: [protoDir, healthDir, reflectionDir, protovalidateDir, googleapisDir],
    keepCase: false,
    enums: String,
    longs: Number,
    defaults: false,
    oneofs: true,
  });
}

interface CallResult {
  readonly responses: unknown[];
  readonly headers: grpc.Metadata;
}

interface CallOptions {
  readonly metadata?: grpc.Metadata;
  readonly deadlineMs?: number;
  /** The stream never ends by itself: DEADLINE_EXCEEDED is its expected end, and resolves with what came before. */
  readonly endsAtDeadline?: boolean;
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** Calls a method of any streaming kind and collects what comes back. */
export function callGrpcJs(
  client: AnyClient,
  method: string,
  kind: StreamKind,
  requests: readonly unknown[],
  options: CallOptions = {},
): Promise<CallResult> {
  const metadata = options.metadata ?? new grpc.Metadata();
  const callOptions: grpc.CallOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  const stub = client[method];
  if (stub === undefined) throw new Error(`the client has no method ${method}`);
  const invoke = stub.bind(client);
  return new Promise((resolve, reject) => {
    const responses: unknown[] = [];
    let headers = new grpc.Metadata();
    const done = (error: grpc.ServiceError | null, response?: unknown) => {
      if (error) return reject(error);
      if (response !== undefined) responses.push(response);
      resolve({ responses, headers });
    };
    if (kind === "unary" || kind === "client") {
      const call = (
        kind === "unary" ? invoke(requests[0], metadata, callOptions, done) : invoke(metadata, callOptions, done)
      ) as grpc.ClientUnaryCall & Partial<grpc.ClientWritableStream<unknown>>;
      call.on("metadata", (received: grpc.Metadata) => (headers = received));
      if (kind === "client") writeAll(call, requests);
      return;
    }
    const call = (
      kind === "server" ? invoke(requests[0], metadata, callOptions) : invoke(metadata, callOptions)
    ) as grpc.ClientReadableStream<unknown> & Partial<grpc.ClientWritableStream<unknown>>;
    call.on("metadata", (received: grpc.Metadata) => (headers = received));
    call.on("data", (response: unknown) => responses.push(response));
    call.on("error", (error: grpc.ServiceError) =>
      options.endsAtDeadline && error.code === grpc.status.DEADLINE_EXCEEDED ? resolve({ responses, headers }) : reject(error),
    );
    call.on("end", () =>
      options.endsAtDeadline ? reject(new Error("the stream ended before its deadline")) : resolve({ responses, headers }),
    );
    if (kind === "bidi") writeAll(call, requests);
  });
}

/** Writes every request on a client-streaming or bidi call, then ends its side. */
function writeAll(call: Partial<grpc.ClientWritableStream<unknown>>, requests: readonly unknown[]): void {
  if (call.write === undefined || call.end === undefined) throw new Error("the call does not take a stream of requests");
  for (const request of requests) call.write(request);
  call.end();
}

async function rejected(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const error = await promise.then(
    () => assert.fail("expected the call to fail"),
    (reason: unknown) => reason as grpc.ServiceError,
  );
  assert.equal(typeof error.code, "number", String(error));
  return error;
}

/** @grpc/grpc-js, the official gRPC for Node, with contracts loaded at run time by @grpc/proto-loader. */
export function grpcJsSuite(server: () => ServerProcess, counter: CallCounter): void {
  describe("@grpc/grpc-js", () => {
    const contracts = loadContracts();
    let channel: grpc.Channel;
    const clients = new Map<string, AnyClient>();
    const clientFor = (service: string): AnyClient => {
      let client = clients.get(service);
      if (!client) {
        const Client = grpc.makeClientConstructor(contracts[service] as grpc.ServiceDefinition, service);
        client = new Client(server().baseUrl.replace("http://", ""), grpc.credentials.createInsecure(), {
          channelOverride: channel,
        }) as AnyClient;
        clients.set(service, client);
      }
      return client;
    };
    const call = async (procedure: string, kind: StreamKind, requests: readonly unknown[], options?: CallOptions) => {
      const [service, method] = procedure.split("/") as [string, string];
      try {
        return await callGrpcJs(clientFor(service), method, kind, requests, options);
      } finally {
        counter.add("@grpc/grpc-js");
      }
    };

    before(() => {
      channel = new grpc.Channel(server().baseUrl.replace("http://", ""), grpc.credentials.createInsecure(), {});
    });
    after(() => channel.close());

    test("every procedure, every streaming kind", async () => {
      for (const { procedure, kind, requests, expect, deadlineMs } of procedureCases) {
        const what = `${procedure} ${JSON.stringify(requests)}`;
        if ("code" in expect) {
          const error = await rejected(call(procedure, kind, requests));
          assert.equal(error.code, expect.code, what);
          assert.match(error.details, expect.message, what);
        } else {
          const options = deadlineMs === undefined ? {} : { deadlineMs, endsAtDeadline: true };
          expect.check((await call(procedure, kind, requests, options)).responses, what);
        }
      }
    });

    test("a deadline shorter than a slow call ends it with DEADLINE_EXCEEDED", async () => {
      const started = performance.now();
      const error = await rejected(
        call("greeter.v1.GreeterService/LotsOfReplies", "server", [{ name: "Slow", delayMs: 2_000 }], { deadlineMs: 300 }),
      );
      assert.equal(error.code, grpc.status.DEADLINE_EXCEEDED);
      assert.ok(performance.now() - started < 1_500, "the deadline, not the stream, ended the call");
      // A deadline the call fits in is no problem.
      const { responses } = await call("greeter.v1.GreeterService/LotsOfReplies", "server", [{ name: "Quick", delayMs: 1 }], {
        deadlineMs: 5_000,
      });
      assert.equal(responses.length, 7);
    });

    test("metadata both ways: request id echoed, binary and repeated metadata accepted", async () => {
      const metadata = new grpc.Metadata();
      metadata.set("x-request-id", "grpc-js-42");
      metadata.set("x-trace-bin", Buffer.from([0, 1, 2, 255]));
      metadata.add("x-tag", "one");
      metadata.add("x-tag", "two");
      const { headers, responses } = await call("greeter.v1.GreeterService/LotsOfReplies", "server", [{ name: "Meta" }], { metadata });
      assert.equal(responses.length, 7);
      assert.deepEqual(headers.get("x-request-id"), ["grpc-js-42"]);

      // Without one, the server makes one up.
      const generated = await call("helloworld.Greeter/SayHello", "unary", [{ name: "Anon" }]);
      assert.match(String(generated.headers.get("x-request-id")[0]), /^[0-9a-f-]{36}$/);
    });

    test("a validation error carries google.rpc.BadRequest in grpc-status-details-bin", async () => {
      const metadata = new grpc.Metadata();
      metadata.set("x-request-id", "grpc-js-details");
      const error = await rejected(call("calculator.v1.CalculatorService/SquareRoot", "unary", [{ number: -9 }], { metadata }));
      assert.equal(error.code, Code.InvalidArgument);
      assert.deepEqual(error.metadata.get("x-request-id"), ["grpc-js-details"]);
      const [detailsBin] = error.metadata.get("grpc-status-details-bin");
      assert.ok(Buffer.isBuffer(detailsBin), "grpc-status-details-bin trailer present");
      const status = fromBinary(StatusSchema, detailsBin);
      assert.equal(status.code, Code.InvalidArgument);
      assert.equal(status.message, error.details);
      const registry = createRegistry(file_google_rpc_error_details);
      const [detail] = status.details.map((any) => anyUnpack(any, registry));
      assert.equal(detail?.$typeName, BadRequestSchema.typeName);
      const badRequest = detail as unknown as { fieldViolations: Array<{ field: string; reason: string; description: string }> };
      assert.deepEqual(
        badRequest.fieldViolations.map(({ field, reason }) => ({ field, reason })),
        [{ field: "number", reason: "NON_NEGATIVE" }],
      );
      const [violation] = badRequest.fieldViolations;
      assert.ok(violation);
      assert.match(violation.description, /negative number: number is -9/);
    });

    test("an unknown method gets UNIMPLEMENTED and the connection keeps serving", async () => {
      const Nowhere = grpc.makeGenericClientConstructor(
        {
          Nope: {
            path: "/calculator.v1.CalculatorService/Nope",
            requestStream: false,
            responseStream: false,
            requestSerialize: (value: Buffer) => value,
            requestDeserialize: (value: Buffer) => value,
            responseSerialize: (value: Buffer) => value,
            responseDeserialize: (value: Buffer) => value,
          },
        },
        "Nowhere",
      );
      const client = new Nowhere(server().baseUrl.replace("http://", ""), grpc.credentials.createInsecure(), {
        channelOverride: channel,
      }) as unknown as AnyClient;
      const error = await rejected(callGrpcJs(client, "Nope", "unary", [Buffer.alloc(0)]));
      counter.add("@grpc/grpc-js");
      assert.equal(error.code, grpc.status.UNIMPLEMENTED);
      const { responses } = await call("helloworld.Greeter/SayHello", "unary", [{ name: "again" }]);
      assert.deepEqual(responses, [{ message: "Hello, again!" }]);
    });

    test("gzip both ways: a compressed request and a large compressed answer", async () => {
      const gzipChannel = new grpc.Channel(server().baseUrl.replace("http://", ""), grpc.credentials.createInsecure(), {
        "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip,
      });
      try {
        const Client = grpc.makeClientConstructor(contracts["greeter.v1.GreeterService"] as grpc.ServiceDefinition, "GreeterService");
        const client = new Client("unused", grpc.credentials.createInsecure(), { channelOverride: gzipChannel }) as AnyClient;
        const many = Array.from({ length: 300 }, (_, i) => ({ name: `Person${i}` }));
        const { responses } = await callGrpcJs(client, "LotsOfGreetings", "client", many);
        counter.add("@grpc/grpc-js");
        const [answer] = responses as Array<{ message: string; count: number }>;
        assert.equal(answer?.count, 300);
        assert.ok(answer.message.startsWith("Hello, Person0, Person1,") && answer.message.endsWith("and Person299!"));
      } finally {
        gzipChannel.close();
      }
    });

    test("health Watch streams the current status", async () => {
      const client = clientFor("grpc.health.v1.Health");
      assert.ok(client.Watch, "the Health client has Watch");
      const watch = client.Watch({ service: "" }) as grpc.ClientReadableStream<{ status: string }>;
      const [first] = (await new Promise((resolve, reject) => {
        watch.once("data", (message) => resolve([message]));
        watch.once("error", reject);
      })) as Array<{ status: string }>;
      counter.add("@grpc/grpc-js");
      assert.equal(first?.status, "SERVING");
      const ended = new Promise<grpc.ServiceError>((resolve) => watch.once("error", resolve));
      watch.cancel();
      assert.equal((await ended).code, grpc.status.CANCELLED);
    });
  });
}
