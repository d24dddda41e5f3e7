import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SquareRootResponseSchema } from "../../gen/calculator/v1/calculator_pb.js";
import { GetMovieRequestSchema, GetMovieResponseSchema, ListMoviesRequestSchema } from "../../gen/movie/v1/movie_pb.js";
import { CreateOrderRequestSchema, CreateOrderResponseSchema } from "../../gen/order/v1/order_pb.js";
import { NumberSchema } from "../../gen/tutorial/calculator/calculator_pb.js";
import {
  connectGetQuery,
  connectJsonRequest,
  frame,
  grpcSquareRootRequest,
  grpcWebRequest,
  operand,
  splitFrames,
  tutorialSquareRootPath,
  v1SquareRootPath,
} from "./payloads.js";
import type { ProbeReply } from "./probe.js";
import type { ServerId } from "./servers.js";

/** What a correct answer looks like, from one probe call: how h2load's byte count can tell answers from failures. */
export interface Expectation {
  /** Body bytes of one correct answer; undefined when answers differ in size (timestamps, ids). */
  readonly bytesPerCall: number | undefined;
  /** Messages in one answer: 1 for unary, the whole catalogue for ListMovies. */
  readonly messagesPerCall: number;
}

export interface Workload {
  readonly id: string;
  readonly title: string;
  /** What the rate counts: calls, or messages of a stream (h2load counts calls, i.e. whole streams). */
  readonly unit: "calls" | "messages";
  readonly http1: boolean;
  readonly connections: number;
  /** Concurrent streams per connection (HTTP/2 only). */
  readonly streams: number;
  /**
   * Requests per second each connection sends (h2load --rps), for a load
   * offered at a fixed rate: latency is then the server's, not the queue
   * a closed loop of `connections × streams` calls builds in front of it.
   * Undefined: as fast as the server answers.
   */
  readonly ratePerConnection?: number;
  readonly method: "GET" | "POST";
  /** Path and query. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | undefined;
  /** The servers it runs against, in the order of the table. */
  readonly servers: readonly ServerId[];
  /**
   * "postgres": runs only when PostgreSQL is reachable (the WORKERS
   * comparison), and not in a --quick run unless asked for by --workloads.
   */
  readonly needs?: "postgres";
  /** Throws when the probe's answer is wrong; else says what a right one looks like. */
  readonly check: (reply: ProbeReply) => Expectation;
}

const grpcHeaders = { "content-type": "application/grpc", te: "trailers" };
const grpcWebHeaders = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };
const unaryComparison: readonly ServerId[] = ["this", "grpc-js", "grpcio", "raw-h2"];
const http1Comparison: readonly ServerId[] = ["this", "raw-h1"];
/** The embedded database and PostgreSQL (dropped when PostgreSQL is unreachable). */
/**
 * The database workloads run on a process of the default server of their own
 * (with a copy of the same data folder): served by the process that serves the
 * protocol workloads, the heap they grow was measured as the cost of those,
 * and of the variants compared with it.
 */
const databaseComparison: readonly ServerId[] = ["this-database", "this-postgres"];

/** The movie GetMovie asks for: one of the tutorial's seven, there in every database. */
export const movieId = "a8034f44-aee4-44cf-b32c-74cf452aaaae";
const orderName = "benchmark order";

export function workloads(): Workload[] {
  const grpcSquareRoot = (connections: number, streams: number): Workload => ({
    id: `grpc-unary-${connections}x${streams}`,
    title: `gRPC unary, h2c, ${connections} conn × ${streams} stream${streams === 1 ? "" : "s"}`,
    unit: "calls",
    http1: false,
    connections,
    streams,
    method: "POST",
    target: tutorialSquareRootPath,
    headers: grpcHeaders,
    body: grpcSquareRootRequest,
    servers: unaryComparison,
    check: checkGrpcSquareRoot,
  });
  const connectJson = (connections: number): Workload => ({
    id: `connect-json-h1-${connections}`,
    title: `Connect JSON POST, HTTP/1.1, ${connections} conn`,
    unit: "calls",
    http1: true,
    connections,
    streams: 1,
    method: "POST",
    target: v1SquareRootPath,
    headers: { "content-type": "application/json" },
    body: connectJsonRequest,
    servers: http1Comparison,
    check: checkConnectJson,
  });
  return [
    grpcSquareRoot(1, 1),
    // Also against the observability variants (what metrics and tracing cost), V8's default heap (what the small one
    // costs) and connect-node's own path (what the fast path is worth, next to what it costs to keep).
    {
      ...grpcSquareRoot(8, 16),
      servers: [...unaryComparison, "this-metrics-off", "this-tracing-sampled", "this-tracing", "this-heap-fast", "this-fast-path-off"],
    },
    connectJson(1),
    { ...connectJson(8), servers: [...http1Comparison, "this-fast-path-off"] },
    {
      id: "connect-get-h1-8",
      title: "Connect GET, HTTP/1.1, 8 conn",
      unit: "calls",
      http1: true,
      connections: 8,
      streams: 1,
      method: "GET",
      target: v1SquareRootPath + connectGetQuery,
      headers: {},
      body: undefined,
      servers: http1Comparison,
      check: checkConnectJson,
    },
    {
      // REST beside Connect GET: a resource read by its path (GET /v1/movies/{id}, transcoded from google.api.http),
      // answered from the embedded database; only this server has REST routes.
      id: "rest-get-movie-h1-8",
      title: "REST GET /v1/movies/{id}, HTTP/1.1, 8 conn",
      unit: "calls",
      http1: true,
      connections: 8,
      streams: 1,
      method: "GET",
      target: `/v1/movies/${movieId}`,
      headers: {},
      body: undefined,
      servers: ["this"],
      check: checkRestMovie,
    },
    {
      id: "grpc-web-h1-8",
      title: "gRPC-Web binary, HTTP/1.1, 8 conn",
      unit: "calls",
      http1: true,
      connections: 8,
      streams: 1,
      method: "POST",
      target: v1SquareRootPath,
      headers: grpcWebHeaders,
      body: grpcWebRequest,
      servers: http1Comparison,
      check: checkGrpcWeb,
    },
    {
      id: "stream-list-movies",
      title: "ListMovies server stream (gRPC, h2c, 1 conn × 4 streams), messages",
      unit: "messages",
      http1: false,
      connections: 1,
      streams: 4,
      method: "POST",
      target: "/movie.v1.MovieService/ListMovies",
      headers: grpcHeaders,
      body: frame(toBinary(ListMoviesRequestSchema, create(ListMoviesRequestSchema))),
      servers: ["this", "grpc-js"],
      check: checkMovieStream,
    },
    {
      id: "db-get-movie",
      title: "GetMovie (gRPC, h2c, 8 conn × 16 streams)",
      unit: "calls",
      http1: false,
      connections: 8,
      streams: 16,
      method: "POST",
      target: "/movie.v1.MovieService/GetMovie",
      headers: grpcHeaders,
      body: frame(toBinary(GetMovieRequestSchema, create(GetMovieRequestSchema, { id: movieId }))),
      servers: databaseComparison,
      check: checkGetMovie,
    },
    {
      id: "db-create-order",
      title: "CreateOrder (gRPC, h2c, 8 conn × 16 streams)",
      unit: "calls",
      http1: false,
      connections: 8,
      streams: 16,
      method: "POST",
      target: "/order.v1.OrderService/CreateOrder",
      headers: grpcHeaders,
      body: frame(toBinary(CreateOrderRequestSchema, create(CreateOrderRequestSchema, { name: orderName }))),
      servers: databaseComparison,
      check: checkCreateOrder,
    },
    {
      // The same calls at a fixed 1,000 per second, one a millisecond (see
      // h2loadArgs), well under what either engine sustains: the latency and
      // event-loop delay a write costs, where the closed loop above measures
      // throughput (with 128 calls always in flight, its latency is 128 ÷
      // the rate, whatever one write costs).
      id: "db-create-order-paced",
      title: "CreateOrder at 1,000 calls/s (gRPC, h2c, 8 conn × up to 16 streams)",
      unit: "calls",
      http1: false,
      connections: 8,
      streams: 16,
      ratePerConnection: 125,
      method: "POST",
      target: "/order.v1.OrderService/CreateOrder",
      headers: grpcHeaders,
      body: frame(toBinary(CreateOrderRequestSchema, create(CreateOrderRequestSchema, { name: orderName }))),
      servers: databaseComparison,
      check: checkCreateOrder,
    },
    {
      // Issue 14: the same load against one worker and two (PostgreSQL; not pinned).
      ...grpcSquareRoot(8, 16),
      id: "workers-grpc-unary-8x16",
      title: "gRPC unary, h2c, 8 conn × 16 streams, WORKERS=1 vs 2 (PostgreSQL, not pinned)",
      servers: ["workers-1", "workers-2"],
      needs: "postgres",
    },
  ];
}

function fail(reply: ProbeReply, what: string): never {
  const status = reply.grpcStatus === undefined ? "" : `, grpc-status ${reply.grpcStatus} ${reply.grpcMessage ?? ""}`;
  throw new Error(
    `${what}; got HTTP ${reply.httpStatus}${status}, ${reply.body.length} body bytes: ${reply.body.toString("hex").slice(0, 120)}`,
  );
}

/** The messages of a gRPC answer that ended with status 0. */
function grpcMessages(reply: ProbeReply): Uint8Array[] {
  if (reply.httpStatus !== 200 || reply.grpcStatus !== "0") fail(reply, "expected HTTP 200 and grpc-status 0");
  return splitFrames(reply.body).messages;
}

function single(reply: ProbeReply, messages: Uint8Array[]): Uint8Array {
  const [message] = messages;
  if (message === undefined || messages.length !== 1) fail(reply, "expected exactly one message");
  return message;
}

function checkGrpcSquareRoot(reply: ProbeReply): Expectation {
  const { value } = fromBinary(NumberSchema, single(reply, grpcMessages(reply)));
  if (value !== Math.fround(Math.sqrt(operand))) fail(reply, `expected √${operand} in single precision, got ${value}`);
  return { bytesPerCall: reply.body.length, messagesPerCall: 1 };
}

function checkConnectJson(reply: ProbeReply): Expectation {
  if (reply.httpStatus !== 200 || !reply.contentType.startsWith("application/json")) fail(reply, "expected HTTP 200 with JSON");
  const { result } = JSON.parse(reply.body.toString("utf8")) as { result?: unknown };
  if (result !== Math.sqrt(operand)) fail(reply, `expected {"result": √${operand}}`);
  return { bytesPerCall: reply.body.length, messagesPerCall: 1 };
}

function checkGrpcWeb(reply: ProbeReply): Expectation {
  if (reply.httpStatus !== 200) fail(reply, "expected HTTP 200");
  const { messages, trailers } = splitFrames(reply.body);
  const status = trailers === undefined ? reply.grpcStatus : /^grpc-status:\s*(\d+)/im.exec(trailers)?.[1];
  if (status !== "0") fail(reply, "expected grpc-status 0 in the trailer frame");
  const { result } = fromBinary(SquareRootResponseSchema, single(reply, messages));
  if (result !== Math.sqrt(operand)) fail(reply, `expected √${operand}, got ${result}`);
  return { bytesPerCall: reply.body.length, messagesPerCall: 1 };
}

function checkMovieStream(reply: ProbeReply): Expectation {
  const messages = grpcMessages(reply);
  if (messages.length === 0) fail(reply, "expected movies");
  return { bytesPerCall: reply.body.length, messagesPerCall: messages.length };
}

function checkGetMovie(reply: ProbeReply): Expectation {
  const { movie } = fromBinary(GetMovieResponseSchema, single(reply, grpcMessages(reply)));
  if (movie?.id !== movieId) fail(reply, `expected the movie ${movieId}`);
  return { bytesPerCall: reply.body.length, messagesPerCall: 1 };
}

function checkRestMovie(reply: ProbeReply): Expectation {
  if (reply.httpStatus !== 200 || !reply.contentType.startsWith("application/json")) fail(reply, "expected HTTP 200 with JSON");
  const { id } = JSON.parse(reply.body.toString("utf8")) as { id?: unknown };
  if (id !== movieId) fail(reply, `expected the movie ${movieId} itself (response_body: "movie")`);
  return { bytesPerCall: reply.body.length, messagesPerCall: 1 };
}

function checkCreateOrder(reply: ProbeReply): Expectation {
  const { order } = fromBinary(CreateOrderResponseSchema, single(reply, grpcMessages(reply)));
  if (order?.name !== orderName) fail(reply, `expected the new order "${orderName}"`);
  // Ids and timestamps make answers differ in size by a few bytes: the call log tells failures.
  return { bytesPerCall: undefined, messagesPerCall: 1 };
}
