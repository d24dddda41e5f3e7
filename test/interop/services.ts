import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";

/**
 * What the interop suite expects the server to answer, written once for every
 * client (buf curl, grpc-js, the protocol matrix). When a service is added
 * (Movie, Order), add it here: its name to `registeredServices` and a case
 * per method to `procedureCases`.
 */
export const registeredServices = [
  "calculator.v1.CalculatorService",
  "greeter.v1.GreeterService",
  "movie.v1.MovieService",
  "order.v1.OrderService",
  "Calculator",
  "helloworld.Greeter",
  "hello.HelloService",
  "Movie",
  "order.OrderService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
] as const;

export type StreamKind = "unary" | "server" | "client" | "bidi";

/** A call and what must come back, in the proto JSON mapping (camelCase names, zero values may be absent). */
export interface ProcedureCase {
  /** "package.Service/Method", as buf curl and gRPC paths spell it. */
  readonly procedure: string;
  readonly kind: StreamKind;
  /** One request for unary and server streaming; several for client and bidi streaming. */
  readonly requests: readonly Record<string, unknown>[];
  /** False for the official gRPC services, which are not in proto/. */
  readonly inProtoFolder: boolean;
  readonly expect:
    | { check(responses: unknown[], what: string): void }
    | { code: Code; exitCode: number; message: RegExp };
}

const answers =
  (...expected: Record<string, unknown>[]) =>
  (responses: unknown[], what: string) =>
    assert.deepEqual(responses.map(withoutZeroValues), expected, what);

/** Zero values are omitted by some clients and spelled out by others. */
function withoutZeroValues(message: unknown): unknown {
  return Object.fromEntries(
    Object.entries(message as Record<string, unknown>).filter(([, value]) => value !== 0 && value !== "" && value !== false && value !== null),
  );
}

/** A float field as a client decodes it: 1.4142135 in JSON, 1.4142135381698608 in JavaScript. */
const float32 =
  (field: string, expected: number) =>
  (responses: unknown[], what: string) => {
    assert.equal(responses.length, 1, what);
    const value = (responses[0] as Record<string, unknown>)[field];
    assert.ok(typeof value === "number" && Math.abs(value - expected) < 1e-6, `${what}: got ${String(value)}`);
  };

const error = (code: Code, message: RegExp) => ({ code, exitCode: code * 8, message });

const names = ["Alice", "Bob", "なんしー"];

export const procedureCases: readonly ProcedureCase[] = [
  // calculator.v1
  ...(
    [
      ["SquareRoot", { number: 2 }, { result: Math.SQRT2 }],
      ["Add", { a: 0.5, b: 0.25 }, { result: 0.75 }],
      ["Subtract", { a: 1, b: 3 }, { result: -2 }],
      ["Multiply", { a: -2.5, b: 4 }, { result: -10 }],
      ["Divide", { a: 1, b: 8 }, { result: 0.125 }],
    ] as const
  ).map(([method, request, response]) => ({
    procedure: `calculator.v1.CalculatorService/${method}`,
    kind: "unary" as const,
    requests: [request],
    inProtoFolder: true,
    expect: { check: answers(response) },
  })),
  {
    procedure: "calculator.v1.CalculatorService/SquareRoot",
    kind: "unary",
    requests: [{ number: -4 }],
    inProtoFolder: true,
    expect: error(Code.InvalidArgument, /negative number: number is -4/),
  },
  {
    procedure: "calculator.v1.CalculatorService/Divide",
    kind: "unary",
    requests: [{ a: 1, b: 0 }],
    inProtoFolder: true,
    expect: error(Code.InvalidArgument, /divide by zero/),
  },
  // greeter.v1, every streaming kind
  { procedure: "greeter.v1.GreeterService/SayHello", kind: "unary", requests: [{ name: "Alice" }], inProtoFolder: true, expect: { check: answers({ message: "Hello, Alice!" }) } },
  { procedure: "greeter.v1.GreeterService/SayHelloAgain", kind: "unary", requests: [{ name: "Bob" }], inProtoFolder: true, expect: { check: answers({ message: "Hello again, Bob!" }) } },
  {
    procedure: "greeter.v1.GreeterService/SayHello",
    kind: "unary",
    requests: [{ name: "Bartholomew!" }],
    inProtoFolder: true,
    expect: error(Code.InvalidArgument, /cannot be more than 10 characters, got 12/),
  },
  {
    procedure: "greeter.v1.GreeterService/LotsOfReplies",
    kind: "server",
    requests: [{ name: "Alice" }],
    inProtoFolder: true,
    expect: {
      check(responses, what) {
        const languages = responses.map((response) => (response as { language: string }).language);
        assert.deepEqual(languages, ["en", "fr", "es", "de", "ja", "ko", "ru"], what);
        assert.deepEqual(responses[1], { message: "Bonjour, Alice !", language: "fr" }, what);
      },
    },
  },
  {
    procedure: "greeter.v1.GreeterService/LotsOfGreetings",
    kind: "client",
    requests: names.map((name) => ({ name })),
    inProtoFolder: true,
    expect: { check: answers({ message: "Hello, Alice, Bob, and なんしー!", count: 3 }) },
  },
  {
    procedure: "greeter.v1.GreeterService/BidiHello",
    kind: "bidi",
    requests: names.map((name) => ({ name })),
    inProtoFolder: true,
    expect: { check: answers(...names.map((name) => ({ message: `Hello, ${name}!` }))) },
  },
  // The tutorials' contracts, at their exact wire names
  { procedure: "Calculator/SquareRoot", kind: "unary", requests: [{ value: 2 }], inProtoFolder: true, expect: { check: float32("value", Math.SQRT2) } },
  { procedure: "Calculator/SquareRoot", kind: "unary", requests: [{ value: -1 }], inProtoFolder: true, expect: error(Code.InvalidArgument, /value is -1/) },
  { procedure: "helloworld.Greeter/SayHello", kind: "unary", requests: [{ name: "world" }], inProtoFolder: true, expect: { check: answers({ message: "Hello, world!" }) } },
  { procedure: "helloworld.Greeter/SayHelloAgain", kind: "unary", requests: [{ name: "world" }], inProtoFolder: true, expect: { check: answers({ message: "Hello again, world!" }) } },
  { procedure: "hello.HelloService/SayHello", kind: "unary", requests: [{ name: "なんしー" }], inProtoFolder: true, expect: { check: answers({ message: "こんにちは, なんしー" }) } },
  // The gRPC ecosystem's services
  { procedure: "grpc.health.v1.Health/Check", kind: "unary", requests: [{}], inProtoFolder: false, expect: { check: answers({ status: "SERVING" }) } },
  {
    procedure: "grpc.health.v1.Health/Check",
    kind: "unary",
    requests: [{ service: "greeter.v1.GreeterService" }],
    inProtoFolder: false,
    expect: { check: answers({ status: "SERVING" }) },
  },
  { procedure: "grpc.health.v1.Health/Check", kind: "unary", requests: [{ service: "no.such.Service" }], inProtoFolder: false, expect: error(Code.NotFound, /unknown service "no.such.Service"/) },
  {
    procedure: "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    kind: "bidi",
    requests: [{ listServices: "" }, { fileContainingSymbol: "no.such.Symbol" }],
    inProtoFolder: false,
    expect: {
      check(responses, what) {
        const [list, missing] = responses as Array<Record<string, { service?: Array<{ name: string }>; errorCode?: number }>>;
        assert.deepEqual(list?.listServicesResponse?.service?.map(({ name }) => name).sort(), [...registeredServices].sort(), what);
        assert.equal(missing?.errorResponse?.errorCode, Code.NotFound, what);
      },
    },
  },
];
