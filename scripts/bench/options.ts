import { parseArgs } from "node:util";

export const usage = `usage: npm run bench -- [options]
  --rounds N          rounds; every workload runs against every server once per round, interleaved (default 3)
  --duration S        seconds each measured run lasts (default 5)
  --warmup S          seconds of warm-up load before each measured run (default 1)
  --memory-calls N    unary calls of the memory run (default $BENCH_MEMORY_CALLS or 1000000; 0 skips it)
  --movies N          movies seeded for ListMovies, besides the tutorial's 7 (default 10000)
  --workloads a,b     only these workloads (ids as in the JSON), e.g. grpc-unary-8x16,stream-list-movies;
                      db-get-movie and db-create-order run on PostgreSQL too, and workers-grpc-unary-8x16
                      (WORKERS=1 vs 2) needs it: $BENCH_DATABASE_URL, else $TEST_DATABASE_URL, else
                      postgres://postgres@127.0.0.1:5432/postgres (skipped when unreachable)
  --startup-runs N    start-up measurements of each kind: new data folder, existing one, memory:// (default 3; 0 skips)
  --json PATH         where the results go as JSON (default bench-results.json)
  --quick             a smoke run: 1 round, 0.3 s warm-up, 1 s runs, 20000 memory calls, 1000 movies,
                      1 start-up run of each kind, no WORKERS comparison unless named in --workloads
                      (any option given as well wins)
  --help`;

export interface Options {
  readonly rounds: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly memoryCalls: number;
  readonly movies: number;
  readonly startupRuns: number;
  readonly workloads: readonly string[] | undefined;
  readonly jsonPath: string;
  readonly quick: boolean;
}

export class UsageError extends Error {
  override name = "UsageError";
}

/** Reads the command line; throws UsageError on anything it cannot use, undefined for --help. */
export function parseOptions(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Options | undefined {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return undefined;
  const quick = values.quick;
  const number = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < min) {
      throw new UsageError(`--${name} must be a number of at least ${min}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  const whole = (name: string, text: string | undefined, fallback: number, min: number): number => {
    const value = number(name, text, fallback, min);
    if (!Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
    return value;
  };
  return {
    quick,
    rounds: whole("rounds", values.rounds, quick ? 1 : 3, 1),
    durationMs: number("duration", values.duration, quick ? 1 : 5, 0.1) * 1000,
    warmupMs: number("warmup", values.warmup, quick ? 0.3 : 1, 0.1) * 1000,
    memoryCalls: whole("memory-calls", values["memory-calls"] ?? env.BENCH_MEMORY_CALLS, quick ? 20_000 : 1_000_000, 0),
    movies: whole("movies", values.movies, quick ? 1_000 : 10_000, 1),
    startupRuns: whole("startup-runs", values["startup-runs"], quick ? 1 : 3, 0),
    workloads: values.workloads
      ?.split(",")
      .map((id) => id.trim())
      .filter((id) => id !== ""),
    jsonPath: values.json ?? "bench-results.json",
  };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      "memory-calls": { type: "string" },
      movies: { type: "string" },
      "startup-runs": { type: "string" },
      workloads: { type: "string" },
      json: { type: "string" },
      quick: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}
