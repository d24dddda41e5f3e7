import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ServerProcess } from "../lib/server-process.js";

/** Where the repository is (this file runs from dist/scripts/bench/). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const benchDist = fileURLToPath(new URL(".", import.meta.url));

export type ServerId =
  | "this"
  | "this-database"
  | "this-postgres"
  | "this-metrics-off"
  | "this-tracing"
  | "this-tracing-sampled"
  | "this-heap-fast"
  | "this-fast-path-off"
  | "workers-1"
  | "workers-2"
  | "grpc-js"
  | "grpcio"
  | "raw-h2"
  | "raw-h1";

export const serverLabels: Record<ServerId, string> = {
  this: "this server",
  "this-database": "this server, database process",
  "this-postgres": "this server on PostgreSQL",
  "this-metrics-off": "this server, metrics off",
  "this-tracing": "this server, tracing 1.0",
  "this-tracing-sampled": "this server, tracing sampled at 0.1",
  "this-heap-fast": "this server, HEAP_PROFILE=fast",
  "this-fast-path-off": "this server, FAST_PATH=off (connect-node's own path)",
  "workers-1": "this server, WORKERS=1",
  "workers-2": "this server, WORKERS=2",
  "grpc-js": "@grpc/grpc-js",
  grpcio: "grpcio (Python)",
  "raw-h2": "raw node:http2",
  "raw-h1": "raw node:http",
};

/** A server under test, each its own process so it can be pinned and its /proc read. */
export interface BenchServer {
  readonly id: ServerId;
  readonly pid: number;
  readonly port: number;
  /** Its CPU and memory are those of its whole process tree (a WORKERS=n primary and its workers). */
  readonly tree?: boolean;
  /** Ours with metrics on and one process: its /metrics tells the event-loop delay of a run (see loop-delay.ts). */
  readonly scrapesLoopDelay?: boolean;
  /** Its database is PostgreSQL, whose processes' CPU is read as well. */
  readonly onPostgres?: boolean;
  /**
   * How many calls the server itself logged as failed since the previous
   * call of this (ours only: its call log has a line per call).
   */
  readonly loggedFailures?: () => number;
  stop(): Promise<void>;
}

/**
 * Our server in its default configuration (call log on, at info level into a
 * file as a log collector would read it; metrics on; tracing off; the
 * embedded database in `dataDir`). Settings that would change what is
 * measured are cleared, in case the calling shell has them; `variant` is what
 * a variant sets on top (METRICS=off, tracing, DATABASE_URL, WORKERS).
 */
export async function startThisServer(
  dataDir: string,
  launcher: readonly string[],
  id: ServerId = "this",
  variant: Readonly<Record<string, string>> = {},
): Promise<BenchServer> {
  const server = await ServerProcess.start({ ...defaultEnv(), DATA_DIR: dataDir, ...variant }, { launcher });
  const log = new FailureCounter(server.logPath);
  return {
    id,
    pid: server.pid,
    port: server.port,
    tree: variant.WORKERS !== undefined,
    // With WORKERS, each scrape reaches one worker of several: its figure would not be the server's.
    scrapesLoopDelay: variant.WORKERS === undefined && variant.METRICS !== "off",
    onPostgres: (variant.DATABASE_URL ?? "") !== "",
    loggedFailures: () => log.countNew(),
    async stop() {
      await server.stop();
    },
  };
}

/** The environment of the default configuration, whatever the calling shell has set. */
export function defaultEnv(): Record<string, string> {
  const cleared = [
    "DATABASE_URL",
    "AUTH_MODE",
    "AUTH_JWT_SECRET",
    "AUTH_JWKS_URL",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_REQUIRE_FOR_READS",
    "RATE_LIMIT_READS",
    "RATE_LIMIT_WRITES",
    "TLS_CERT",
    "TLS_KEY",
    "COMPRESS_MIN_BYTES",
    "WORKERS",
    "METRICS",
    "METRICS_PORT",
    "METRICS_HOST",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_SDK_DISABLED",
    "HEAP_PROFILE",
  ];
  return { ...Object.fromEntries(cleared.map((name) => [name, ""])), LOG_LEVEL: "info", LOG_FORMAT: "json" };
}

/**
 * Counts the call log's "call failed" lines written since the last count,
 * reading only what was appended. A call the client abandoned (code
 * "canceled": h2load stops mid-call when its time is up) is not a failure.
 */
export class FailureCounter {
  private offset = 0;
  private static readonly marker = Buffer.from('"msg":"call failed');

  constructor(private readonly path: string) {}

  countNew(): number {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return 0;
    }
    const fd = openSync(this.path, "r");
    let failures = 0;
    let carry = Buffer.alloc(0);
    try {
      const chunk = Buffer.alloc(8 * 1024 * 1024);
      while (this.offset < size) {
        const read = readSync(fd, chunk, 0, Math.min(chunk.length, size - this.offset), this.offset);
        if (read === 0) break;
        this.offset += read;
        const text = Buffer.concat([carry, chunk.subarray(0, read)]);
        const lastNewline = text.lastIndexOf(10);
        // A line cut at the chunk's end is counted with the next chunk.
        carry = Buffer.from(text.subarray(lastNewline + 1));
        failures += FailureCounter.count(text.subarray(0, lastNewline + 1));
      }
    } finally {
      closeSync(fd);
    }
    // A partial last line is read again next time, when it is complete.
    this.offset -= carry.length;
    return failures;
  }

  /** "call failed" lines in complete lines of JSON, canceled calls aside. */
  static count(lines: Buffer): number {
    let failures = 0;
    for (let at = lines.indexOf(FailureCounter.marker); at !== -1; at = lines.indexOf(FailureCounter.marker, at + 1)) {
      const start = lines.lastIndexOf(10, at) + 1;
      const end = lines.indexOf(10, at);
      const line = lines.subarray(start, end === -1 ? lines.length : end).toString("utf8");
      if (!line.includes('"code":"canceled"')) failures++;
    }
    return failures;
  }
}

/**
 * A comparison server: a program that prints {"port": N} on its first line
 * of output once it listens. Its stderr goes to a file, quoted if it fails.
 */
export async function startHelper<Id extends ServerId | "otlp-sink">(
  id: Id,
  command: string,
  args: readonly string[],
  launcher: readonly string[],
  workDir: string,
): Promise<Omit<BenchServer, "id"> & { readonly id: Id }> {
  const stderrPath = join(workDir, `${id}.stderr`);
  const [program = command, ...rest] = [...launcher, command, ...args];
  const child = spawn(program, rest, { stdio: ["ignore", "pipe", openSync(stderrPath, "w")] });
  helpers.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stderr = () => {
    try {
      return readFileSync(stderrPath, "utf8").slice(-2_000);
    } catch {
      return "";
    }
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${helperLabels[id]} did not start within 60 s\n${stderr()}`)), 60_000);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => {
      clearTimeout(timer);
      const { port } = JSON.parse(line) as { port?: number };
      if (typeof port === "number") resolve(port);
      else reject(new Error(`${helperLabels[id]} printed "${line}" instead of its port`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${helperLabels[id]} exited (${code ?? signal}) while starting\n${stderr()}`));
    });
  });
  // Output after the port line is not expected; drain it so the process never blocks on a full pipe.
  child.stdout?.resume();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${helperLabels[id]} has no pid`);
  return {
    id,
    pid,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      helpers.delete(child);
    },
  };
}

const helperLabels: Record<ServerId | "otlp-sink", string> = { ...serverLabels, "otlp-sink": "the OTLP sink" };

/** Helpers still running, killed if the benchmark ends first (an error, Ctrl-C). */
const helpers = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of helpers) child.kill("SIGKILL");
});

export function startGrpcJs(catalogueFile: string, launcher: readonly string[], workDir: string): Promise<BenchServer> {
  return startHelper("grpc-js", process.execPath, [join(benchDist, "grpc-js-server.js"), catalogueFile], launcher, workDir);
}

/** The OTLP/HTTP sink the tracing variant exports to (see otlp-sink.ts). */
export function startOtlpSink(launcher: readonly string[], workDir: string) {
  return startHelper("otlp-sink", process.execPath, [join(benchDist, "otlp-sink.js")], launcher, workDir);
}

export function startRaw(mode: "h2" | "h1", launcher: readonly string[], workDir: string): Promise<BenchServer> {
  return startHelper(mode === "h2" ? "raw-h2" : "raw-h1", process.execPath, [join(benchDist, "raw-server.js"), mode], launcher, workDir);
}

/** CPU per call of the tutorial SquareRoot through connect's in-memory transport, without and with a server span (see span-floor.ts). */
export interface SpanFloor {
  readonly withoutUs: number;
  readonly withUs: number;
  /** The difference: one span's own work. */
  readonly spanUs: number;
}

/** Runs span-floor.ts to its end, exporting to the sink at `sinkPort`. */
export function measureSpanFloor(launcher: readonly string[], sinkPort: number, quick: boolean): SpanFloor {
  const script = [join(benchDist, "span-floor.js"), String(sinkPort), ...(quick ? ["--quick"] : [])];
  const [program = process.execPath, ...rest] = [...launcher, process.execPath, ...script];
  const run = spawnSync(program, rest, { encoding: "utf8", timeout: 300_000 });
  if (run.status !== 0) throw new Error(`span-floor.js failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr}`);
  return JSON.parse(run.stdout) as SpanFloor;
}

/** Debian's interpreter, which python3-grpcio and python3-grpc-tools install into (not a pyenv one first on PATH). */
export const python = "/usr/bin/python3";

/** Why the Python server cannot run here, or undefined when it can. */
export function pythonMissing(): string | undefined {
  const check = spawnSync(python, ["-c", "import grpc, grpc_tools"], { encoding: "utf8" });
  if (check.error !== undefined) return `${python} not found`;
  if (check.status !== 0) return `${python} cannot import grpc and grpc_tools (apt-get install python3-grpcio python3-grpc-tools)`;
  return undefined;
}

/** Generates the tutorial Calculator's Python stubs into `workDir`, then starts the tutorial-style grpcio server. */
export function startGrpcio(launcher: readonly string[], workDir: string): Promise<BenchServer> {
  const protoDir = join(repoRoot, "proto/tutorial/calculator");
  const protoc = spawnSync(
    python,
    ["-m", "grpc_tools.protoc", `-I${protoDir}`, `--python_out=${workDir}`, `--grpc_python_out=${workDir}`, "calculator.proto"],
    { encoding: "utf8" },
  );
  if (protoc.status !== 0) throw new Error(`generating the Python stubs failed:\n${protoc.stderr}`);
  // -u: unbuffered, so the port line arrives at once.
  return startHelper("grpcio", python, ["-u", join(repoRoot, "scripts/bench/python_calculator_server.py"), workDir], launcher, workDir);
}
