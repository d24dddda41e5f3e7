import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";

/**
 * What the interop suite expects the server to answer, written once for every
 * client (buf curl, grpc-js, the protocol matrix). When a service is added,
 * add it here: its name to `registeredServices` and cases for its methods to
 * `procedureCases`.
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
  /**
   * For a stream that never ends by itself (WatchOrders): the client calls
   * with this deadline, must see DEADLINE_EXCEEDED, and `check` judges what
   * arrived before it.
   */
  readonly deadlineMs?: number;
  readonly expect: { check(responses: unknown[], what: string): void } | { code: Code; exitCode: number; message: RegExp };
}

const answers =
  (...expected: Record<string, unknown>[]) =>
  (responses: unknown[], what: string) =>
    assert.deepEqual(responses.map(withoutZeroValues), expected, what);

/** Zero values are omitted by some clients and spelled out by others. */
function withoutZeroValues(message: unknown): unknown {
  return Object.fromEntries(
    Object.entries(message as Record<string, unknown>).filter(
      ([, value]) => value !== 0 && value !== "" && value !== false && value !== null,
    ),
  );
}

/** A float field as a client decodes it: 1.4142135 in JSON, 1.4142135381698608 in JavaScript. */
const float32 = (field: string, expected: number) => (responses: unknown[], what: string) => {
  assert.equal(responses.length, 1, what);
  const value = (responses[0] as Record<string, unknown>)[field];
  assert.ok(typeof value === "number" && Math.abs(value - expected) < 1e-6, `${what}: got ${String(value)}`);
};

const error = (code: Code, message: RegExp) => ({ code, exitCode: code * 8, message });

const names = ["Alice", "Bob", "なんしー"];
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** One of the seeded movies, as movie.v1 answers it. */
const martian = { id: "a8034f44-aee4-44cf-b32c-74cf452aaaae", title: "The Martian", director: "Ridley Scott", rating: 8.2 };
const missingOrder = "00000000-0000-4000-8000-000000000000";

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
  {
    procedure: "greeter.v1.GreeterService/SayHello",
    kind: "unary",
    requests: [{ name: "Alice" }],
    inProtoFolder: true,
    expect: { check: answers({ message: "Hello, Alice!" }) },
  },
  {
    procedure: "greeter.v1.GreeterService/SayHelloAgain",
    kind: "unary",
    requests: [{ name: "Bob" }],
    inProtoFolder: true,
    expect: { check: answers({ message: "Hello again, Bob!" }) },
  },
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
  {
    procedure: "Calculator/SquareRoot",
    kind: "unary",
    requests: [{ value: 2 }],
    inProtoFolder: true,
    expect: { check: float32("value", Math.SQRT2) },
  },
  {
    procedure: "Calculator/SquareRoot",
    kind: "unary",
    requests: [{ value: -1 }],
    inProtoFolder: true,
    expect: error(Code.InvalidArgument, /value is -1/),
  },
  {
    procedure: "helloworld.Greeter/SayHello",
    kind: "unary",
    requests: [{ name: "world" }],
    inProtoFolder: true,
    expect: { check: answers({ message: "Hello, world!" }) },
  },
  {
    procedure: "helloworld.Greeter/SayHelloAgain",
    kind: "unary",
    requests: [{ name: "world" }],
    inProtoFolder: true,
    expect: { check: answers({ message: "Hello again, world!" }) },
  },
  {
    procedure: "hello.HelloService/SayHello",
    kind: "unary",
    requests: [{ name: "なんしー" }],
    inProtoFolder: true,
    expect: { check: answers({ message: "こんにちは, なんしー" }) },
  },
  // movie.v1 and order.v1, and the tutorials' movie and order contracts.
  // Orders are created first; the listing comes more than four cases later,
  // so even buf curl, which runs four cases at a time, has created some by then.
  {
    procedure: "order.v1.OrderService/CreateOrder",
    kind: "unary",
    requests: [{ name: "Interop order", completed: true }],
    inProtoFolder: true,
    expect: {
      check(responses, what) {
        const [created] = responses as Array<{ order?: { id: string; name: string; completed?: boolean; etag: string } }>;
        assert.equal(created?.order?.name, "Interop order", what);
        assert.equal(created.order.completed, true, what);
        assert.match(created.order.id, uuid, what);
        assert.ok(created.order.etag, `${what}: an etag for optimistic concurrency`);
      },
    },
  },
  {
    procedure: "order.OrderService/CreateOrder",
    kind: "unary",
    requests: [{ name: "Tutorial order", date: "2024-01-02T03:04:05Z" }],
    inProtoFolder: true,
    expect: {
      check(responses, what) {
        const [created] = responses as Array<{ notificationType: string; order?: { uuid: string; name: string; date: string } }>;
        assert.equal(created?.notificationType, "ORDER_NOTIFICATION_TYPE_ENUM_OK", what);
        assert.equal(created.order?.name, "Tutorial order", what);
        assert.equal(created.order.date, "2024-01-02T03:04:05.000Z", what);
        assert.match(created.order.uuid, uuid, what);
      },
    },
  },
  {
    procedure: "order.v1.OrderService/CreateOrder",
    kind: "unary",
    requests: [{ name: "" }],
    inProtoFolder: true,
    expect: error(Code.InvalidArgument, /name is required/),
  },
  {
    procedure: "movie.v1.MovieService/GetMovie",
    kind: "unary",
    requests: [{ id: martian.id }],
    inProtoFolder: true,
    expect: { check: answers({ movie: martian }) },
  },
  {
    procedure: "movie.v1.MovieService/GetMovie",
    kind: "unary",
    requests: [{ id: "no-such-movie" }],
    inProtoFolder: true,
    expect: error(Code.NotFound, /no movie has id "no-such-movie"/),
  },
  {
    procedure: "movie.v1.MovieService/ListMovies",
    kind: "server",
    requests: [{ directorContains: "SCOTT" }],
    inProtoFolder: true,
    expect: { check: answers({ movie: martian }) },
  },
  {
    procedure: "Movie/GetMovieByID",
    kind: "unary",
    requests: [{ id: martian.id }],
    inProtoFolder: true,
    expect: {
      check(responses, what) {
        const [movie] = responses as Array<{ id: string; title: string; director: string; rating: number }>;
        assert.deepEqual(
          { id: movie?.id, title: movie?.title, director: movie?.director },
          { id: martian.id, title: martian.title, director: martian.director },
          what,
        );
        float32("rating", martian.rating)(responses, what);
      },
    },
  },
  {
    procedure: "Movie/GetMovieByID",
    kind: "unary",
    requests: [{ id: "no-such-movie" }],
    inProtoFolder: true,
    expect: error(Code.NotFound, /no movie has id "no-such-movie"/),
  },
  {
    procedure: "Movie/GetListMovies",
    kind: "server",
    requests: [{}],
    inProtoFolder: true,
    expect: {
      check: (responses, what) =>
        assert.deepEqual(
          responses.map((movie) => (movie as { title: string }).title),
          ["Creed", "Spectre", "The Danish Girl", "The Good Dinosaur", "The Martian", "The Night Before", "Victor Frankenstein"],
          what,
        ),
    },
  },
  {
    procedure: "order.v1.OrderService/GetOrder",
    kind: "unary",
    requests: [{ id: missingOrder }],
    inProtoFolder: true,
    expect: error(Code.NotFound, new RegExp(`no order has id ${missingOrder}`)),
  },
  {
    procedure: "order.OrderService/ReadOrder",
    kind: "unary",
    requests: [{ uuid: missingOrder }],
    inProtoFolder: true,
    expect: error(Code.NotFound, new RegExp(`no order has id ${missingOrder}`)),
  },
  {
    procedure: "order.v1.OrderService/ListOrders",
    kind: "unary",
    requests: [{ pageSize: 1 }],
    inProtoFolder: true,
    expect: {
      check(responses, what) {
        const [page] = responses as Array<{ orders?: Array<{ id: string }>; nextPageToken?: string }>;
        assert.equal(page?.orders?.length, 1, `${what}: one order per page`);
        assert.ok(page.nextPageToken, `${what}: a token for the next page`);
      },
    },
  },
  {
    procedure: "order.OrderService/ListOrders",
    kind: "unary",
    requests: [{}],
    inProtoFolder: true,
    expect: {
      check(responses, what) {
        const [list] = responses as Array<{ notificationType: string; orders?: Array<{ name: string }> }>;
        assert.equal(list?.notificationType, "ORDER_NOTIFICATION_TYPE_ENUM_OK", what);
        assert.ok(
          list.orders?.some(({ name }) => name === "Tutorial order"),
          `${what}: the tutorial's order is listed`,
        );
      },
    },
  },
  {
    procedure: "order.v1.OrderService/WatchOrders",
    kind: "server",
    requests: [{}],
    inProtoFolder: true,
    deadlineMs: 1_000,
    expect: { check: answers({ started: true }) },
  },
  // The gRPC ecosystem's services
  {
    procedure: "grpc.health.v1.Health/Check",
    kind: "unary",
    requests: [{}],
    inProtoFolder: false,
    expect: { check: answers({ status: "SERVING" }) },
  },
  {
    procedure: "grpc.health.v1.Health/Check",
    kind: "unary",
    requests: [{ service: "greeter.v1.GreeterService" }],
    inProtoFolder: false,
    expect: { check: answers({ status: "SERVING" }) },
  },
  {
    procedure: "grpc.health.v1.Health/Check",
    kind: "unary",
    requests: [{ service: "no.such.Service" }],
    inProtoFolder: false,
    expect: error(Code.NotFound, /unknown service "no.such.Service"/),
  },
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
