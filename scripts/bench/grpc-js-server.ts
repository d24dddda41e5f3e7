/**
 * The comparison: a plain @grpc/grpc-js server as the tutorials write one,
 * with the contracts loaded at run time by @grpc/proto-loader. It serves
 *
 *   - the tutorial Calculator (proto/tutorial/calculator/calculator.proto),
 *     with the same SquareRoot rules as ours (INVALID_ARGUMENT for a negative
 *     or non-finite value);
 *   - movie.v1.MovieService/ListMovies (proto/movie/v1/movie.proto), streaming
 *     the catalogue from a JSON file (argv[2]): the movies the benchmark
 *     seeded into our server's database, in the same order, so both send the
 *     same messages. grpc-js holds them in memory; ours reads its database.
 *
 * Run as its own process (so it can be pinned and its CPU read); prints
 * {"port": N} once listening on 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

interface Movie {
  readonly id: string;
  readonly title: string;
  readonly director: string;
  readonly rating: number;
}

const protoRoot = fileURLToPath(new URL("../../../proto/", import.meta.url));
/** movie.proto imports the request rules' options (buf/validate/validate.proto), vendored here. */
const protovalidateRoot = fileURLToPath(new URL("../../../third_party/protovalidate/", import.meta.url));
/** movie.proto also imports its REST routes' option (google/api/annotations.proto), vendored here. */
const googleapisRoot = fileURLToPath(new URL("../../../third_party/googleapis/", import.meta.url));
const definition = protoLoader.loadSync(["tutorial/calculator/calculator.proto", "movie/v1/movie.proto"], {
  includeDirs: [protoRoot, protovalidateRoot, googleapisRoot],
  longs: Number,
});
const catalogueFile = process.argv[2];
const catalogue: readonly Movie[] = catalogueFile === undefined ? [] : (JSON.parse(readFileSync(catalogueFile, "utf8")) as Movie[]);

function service(name: string): grpc.ServiceDefinition {
  const found = definition[name];
  if (found === undefined) throw new Error(`no ${name} in the loaded protos`);
  return found as grpc.ServiceDefinition;
}

const server = new grpc.Server();

server.addService(service("Calculator"), {
  SquareRoot(call: grpc.ServerUnaryCall<{ value?: number }, { value: number }>, callback: grpc.sendUnaryData<{ value: number }>) {
    const value = call.request.value ?? 0;
    if (!Number.isFinite(value) || value < 0) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `cannot take the square root of ${value}` });
      return;
    }
    callback(null, { value: Math.sqrt(value) });
  },
});

server.addService(service("movie.v1.MovieService"), {
  async ListMovies(call: grpc.ServerWritableStream<unknown, { movie: Movie }>) {
    for (const movie of catalogue) {
      if (call.cancelled) return;
      // Honour backpressure, as a well-written handler does, rather than
      // buffering the whole catalogue for a slow reader.
      if (!call.write({ movie })) await drainedOrCancelled(call);
    }
    call.end();
  },
});

function drainedOrCancelled(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", done);
      resolve();
    };
    call.once("drain", done);
    call.once("cancelled", done);
  });
}

server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) {
    console.error(error.message);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
