import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as calculator from "../../gen/calculator/v1/calculator_pb.js";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import * as greeter from "../../gen/greeter/v1/greeter_pb.js";
import * as movie from "../../gen/movie/v1/movie_pb.js";
import * as order from "../../gen/order/v1/order_pb.js";
import { Calculator, NumberSchema } from "../../gen/tutorial/calculator/calculator_pb.js";
import { HelloService } from "../../gen/tutorial/hello/hello_pb.js";
import { Greeter, HelloRequestSchema } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { Movie } from "../../gen/tutorial/movie/movie_pb.js";
import {
  ReadOrderRequestSchema,
  OrderService as TutorialOrderService,
  UpdateOrderRequestSchema as TutorialUpdateOrderRequestSchema,
} from "../../gen/tutorial/order/order_pb.js";
import { toConnectError } from "../../server/interceptors/errors.js";
import { createLogger } from "../../server/logger.js";
import { RequestRules } from "../../server/validation/request-rules.js";
import { tutorialViews } from "../../server/validation/tutorial-views.js";

const rules = new RequestRules(tutorialViews);
const logger = createLogger({ logLevel: "silent", logFormat: "json" });

/** What a client receives for `init`: the status code, the message and the BadRequest field violations. */
function answer<S extends DescMessage>(
  schema: S,
  init: MessageInitShape<S>,
): { code: Code; message: string; violations: unknown } | "valid" {
  try {
    rules.checkRequest(schema, create(schema, init));
    return "valid";
  } catch (error) {
    const mapped = toConnectError(error, new AbortController().signal, logger);
    assert.ok(mapped instanceof ConnectError);
    const violations = mapped
      .findDetails(BadRequestSchema)
      .map((detail) => detail.fieldViolations.map(({ field, reason, description }) => ({ field, reason, description })));
    return { code: mapped.code, message: mapped.rawMessage, violations };
  }
}

type Case = [label: string, check: () => ReturnType<typeof answer>, field: string, reason: string, message: string];

/** Today's messages, byte for byte: the tests of every protocol, the interop clients and the page assert them. */
const refused: Case[] = [
  ["an empty name", () => answer(greeter.SayHelloRequestSchema, { name: "" }), "name", "REQUIRED", "name must not be empty"],
  ["a blank name", () => answer(greeter.BidiHelloRequestSchema, { name: " \u00a0 " }), "name", "REQUIRED", "name must not be empty"],
  [
    "11 letters",
    () => answer(greeter.SayHelloRequestSchema, { name: "abcdefghijk" }),
    "name",
    "MAX_LENGTH",
    "name cannot be more than 10 characters, got 11",
  ],
  [
    "12 kana",
    () => answer(greeter.LotsOfGreetingsRequestSchema, { name: "なんしー".repeat(3) }),
    "name",
    "MAX_LENGTH",
    "name cannot be more than 10 characters, got 12",
  ],
  [
    "a name far too long, unread",
    () => answer(greeter.SayHelloRequestSchema, { name: "x".repeat(1_000_000) }),
    "name",
    "MAX_LENGTH",
    "name cannot be more than 10 characters, got 1000000 UTF-16 code units",
  ],
  ...["a\nb", "\u001b[31mX", "tab\there", "nul\u0000", "del\u007f", "c1\u0085"].map(
    (name): Case => [
      `the name ${JSON.stringify(name)}`,
      () => answer(greeter.SayHelloAgainRequestSchema, { name }),
      "name",
      "NO_CONTROL_CHARACTERS",
      "name must not contain control characters",
    ],
  ),
  [
    "a long pause",
    () => answer(greeter.LotsOfRepliesRequestSchema, { name: "Ada", delayMs: 5_001 }),
    "delay_ms",
    "MAX",
    "delay_ms cannot be more than 5000, got 5001",
  ],
  [
    "a negative square root",
    () => answer(calculator.SquareRootRequestSchema, { number: -4 }),
    "number",
    "NON_NEGATIVE",
    "cannot take the square root of a negative number: number is -4",
  ],
  [
    "NaN",
    () => answer(calculator.SquareRootRequestSchema, { number: Number.NaN }),
    "number",
    "FINITE",
    "number must be a finite number, got NaN",
  ],
  [
    "infinity",
    () => answer(calculator.AddRequestSchema, { a: Number.POSITIVE_INFINITY, b: 1 }),
    "a",
    "FINITE",
    "a must be a finite number, got Infinity",
  ],
  [
    "minus infinity",
    () => answer(calculator.SubtractRequestSchema, { a: 1, b: Number.NEGATIVE_INFINITY }),
    "b",
    "FINITE",
    "b must be a finite number, got -Infinity",
  ],
  ["a zero divisor", () => answer(calculator.DivideRequestSchema, { a: 1, b: 0 }), "b", "NON_ZERO", "cannot divide by zero: b is 0"],
  [
    "a negative zero divisor",
    () => answer(calculator.DivideRequestSchema, { a: 0, b: -0 }),
    "b",
    "NON_ZERO",
    "cannot divide by zero: b is 0",
  ],
  [
    "no title",
    () => answer(movie.CreateMovieRequestSchema, { title: "", director: "D", rating: 5 }),
    "title",
    "REQUIRED",
    "title is required",
  ],
  [
    "a blank director",
    () => answer(movie.CreateMovieRequestSchema, { title: "T", director: "  ", rating: 5 }),
    "director",
    "REQUIRED",
    "director is required",
  ],
  [
    "201 characters of title",
    () => answer(movie.CreateMovieRequestSchema, { title: "x".repeat(201), director: "D", rating: 5 }),
    "title",
    "MAX_LENGTH",
    "title cannot be more than 200 characters, got 201",
  ],
  [
    "a title with a newline",
    () => answer(movie.UpdateMovieRequestSchema, { id: "m", title: "a\nb" }),
    "title",
    "NO_CONTROL_CHARACTERS",
    "title must not contain control characters",
  ],
  [
    "a rating over 10",
    () => answer(movie.CreateMovieRequestSchema, { title: "T", director: "D", rating: 10.5 }),
    "rating",
    "RANGE",
    "rating must be from 0 to 10, got 10.5",
  ],
  [
    "a NaN rating",
    () => answer(movie.UpdateMovieRequestSchema, { id: "m", rating: Number.NaN }),
    "rating",
    "RANGE",
    "rating must be from 0 to 10, got NaN",
  ],
  ["no movie id", () => answer(movie.GetMovieRequestSchema, { id: "" }), "id", "REQUIRED", "id is required"],
  [
    "a movie id with a space",
    () => answer(movie.DeleteMovieRequestSchema, { id: "a b" }),
    "id",
    "FORMAT",
    `id must be 1 to 100 letters, digits, '-', '_', '.' or '~', got "a b"`,
  ],
  [
    "a huge movie id, quoted in part",
    () => answer(movie.GetMovieRequestSchema, { id: "x".repeat(1_000) }),
    "id",
    "FORMAT",
    `id must be 1 to 100 letters, digits, '-', '_', '.' or '~', got "${"x".repeat(40)}…"`,
  ],
  [
    "a filter with a control character",
    () => answer(movie.ListMoviesRequestSchema, { directorContains: "\u0007" }),
    "director_contains",
    "NO_CONTROL_CHARACTERS",
    "director_contains must not contain control characters",
  ],
  ["no order name", () => answer(order.CreateOrderRequestSchema, { name: " " }), "name", "REQUIRED", "name is required"],
  ["no order id", () => answer(order.GetOrderRequestSchema, { id: "" }), "id", "REQUIRED", "id is required"],
  [
    "an order id that is no UUID",
    () => answer(order.DeleteOrderRequestSchema, { id: "not-a-uuid" }),
    "id",
    "UUID",
    'id must be a UUID, got "not-a-uuid"',
  ],
  [
    "a key of 201 characters",
    () => answer(order.CreateOrderRequestSchema, { name: "n", idempotencyKey: "k".repeat(201) }),
    "idempotency_key",
    "MAX_LENGTH",
    "idempotency_key cannot be more than 200 characters, got 201",
  ],
  [
    "a negative page size",
    () => answer(order.ListOrdersRequestSchema, { pageSize: -1 }),
    "page_size",
    "NON_NEGATIVE",
    "page_size must not be negative, got -1",
  ],
  // The tutorials' contracts carry no rules: the canonical ones apply, in the tutorials' field names.
  [
    "the calculator tutorial's negative value",
    () => answer(NumberSchema, { value: -1 }),
    "value",
    "NON_NEGATIVE",
    "cannot take the square root of a negative number: value is -1",
  ],
  [
    "the calculator tutorial's NaN",
    () => answer(NumberSchema, { value: Number.NaN }),
    "value",
    "FINITE",
    "value must be a finite number, got NaN",
  ],
  [
    "helloworld's long name",
    () => answer(HelloRequestSchema, { name: "Bartholomew!" }),
    "name",
    "MAX_LENGTH",
    "name cannot be more than 10 characters, got 12",
  ],
  [
    "the order tutorial's bad uuid",
    () => answer(ReadOrderRequestSchema, { uuid: "nope" }),
    "uuid",
    "UUID",
    'uuid must be a UUID, got "nope"',
  ],
  [
    "the order tutorial's missing uuid",
    () => answer(TutorialUpdateOrderRequestSchema, { uuid: "", name: "n" }),
    "uuid",
    "REQUIRED",
    "uuid is required",
  ],
];

describe("a request that breaks a rule of its contract is INVALID_ARGUMENT with one BadRequest field violation", () => {
  for (const [label, check, field, reason, message] of refused) {
    test(label, () => {
      assert.deepEqual(check(), { code: Code.InvalidArgument, message, violations: [[{ field, reason, description: message }]] });
    });
  }
});

describe("what the rules let through", () => {
  const accepted: Array<[string, () => ReturnType<typeof answer>]> = [
    ["10 letters", () => answer(greeter.SayHelloRequestSchema, { name: "abcdefghij" })],
    [
      "10 emoji with skin tones (40 code units), counted by the domain",
      () => answer(greeter.SayHelloRequestSchema, { name: "👍🏽".repeat(10) }),
    ],
    [
      "a family emoji 11 times: the rule leaves counting graphemes to the domain",
      () => answer(greeter.SayHelloRequestSchema, { name: "👨🏻‍👩🏻‍👦🏻‍👦🏻".repeat(11) }),
    ],
    ["the longest pause", () => answer(greeter.LotsOfRepliesRequestSchema, { name: "Ada", delayMs: 5_000 })],
    ["minus zero's square root", () => answer(calculator.SquareRootRequestSchema, { number: -0 })],
    [
      "200 characters with spaces around them, which are trimmed",
      () => answer(order.CreateOrderRequestSchema, { name: `  ${"n".repeat(200)}  ` }),
    ],
    [
      "a UUID in capitals with spaces around it",
      () => answer(order.GetOrderRequestSchema, { id: " 123E4567-E89B-12D3-A456-426614174000 " }),
    ],
    [
      "an empty movie id on create (the server makes one)",
      () => answer(movie.CreateMovieRequestSchema, { title: "T", director: "D", rating: 0 }),
    ],
    ["an update that sets nothing", () => answer(movie.UpdateMovieRequestSchema, { id: "m" })],
    [
      "the order tutorial's update with an empty name (unchanged)",
      () => answer(TutorialUpdateOrderRequestSchema, { uuid: "123e4567-e89b-12d3-a456-426614174000", name: "" }),
    ],
  ];
  for (const [label, check] of accepted) test(label, () => assert.equal(check(), "valid"));
});

test("every request message of every contract has rules that compile and run", () => {
  const services = [
    calculator.CalculatorService,
    greeter.GreeterService,
    movie.MovieService,
    order.OrderService,
    Calculator,
    Greeter,
    HelloService,
    Movie,
    TutorialOrderService,
  ];
  for (const service of services) {
    for (const method of service.methods) {
      // An empty message breaks rules or not; either way no rule may fail to compile or to run.
      try {
        rules.checkRequest(method.input, create(method.input));
      } catch (error) {
        assert.equal(
          toConnectError(error, new AbortController().signal, logger).code,
          Code.InvalidArgument,
          `${method.input.typeName}: ${String(error)}`,
        );
      }
    }
  }
});
