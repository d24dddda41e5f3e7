/**
 * Load benchmark: starts the built server as its own process, drives it with
 * h2load (Debian's nghttp2-client) over gRPC on HTTP/2 and over Connect JSON
 * on HTTP/1.1, and reports throughput, latency and the server's peak memory
 * against the targets below. Exits 1 when a target is missed.
 *
 *   npm run bench            (apt-get install nghttp2-client first)
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { SquareRootRequestSchema } from "../gen/calculator/v1/calculator_pb.js";

/** Conservative floors for a 2-core machine; raise them when the server gets faster. */
const targets = {
  grpcRequestsPerSecond: 2_000,
  connectRequestsPerSecond: 2_000,
  databaseRequestsPerSecond: 1_000,
  // The embedded database (PGlite's WebAssembly heap) takes most of the
  // memory before the first call; what load adds on top is what can leak.
  rssGrowthUnderLoadMiB: 200,
  peakRssMiB: 1_200,
};

const requests = Number(process.env.BENCH_REQUESTS ?? 40_000);

if (spawnSync("h2load", ["--version"]).error) {
  console.error("h2load not found: install it with `apt-get install nghttp2-client`");
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "bench-"));
// Every call is logged, as in production, to a file as a log collector would
// read it: a pipe nobody drains fast enough would measure the backlog instead.
const logFile = join(work, "server.log");
const server = spawn(process.execPath, ["dist/server/main.js"], {
  env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", LOG_LEVEL: "info", DATA_DIR: join(work, "data") },
  stdio: ["ignore", openSync(logFile, "w"), "inherit"],
});
const port = await serverPort(logFile);

try {
  const message = toBinary(SquareRootRequestSchema, create(SquareRootRequestSchema, { number: 2 }));
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  writeFileSync(join(work, "grpc.bin"), frame);
  writeFileSync(join(work, "connect.json"), JSON.stringify({ number: 2 }));
  const url = `http://127.0.0.1:${port}/calculator.v1.CalculatorService/SquareRoot`;

  const pid = server.pid;
  if (pid === undefined) throw new Error("the server process has no pid: it could not be started");
  const rssBeforeLoadMiB = currentRss(pid);
  const movie = encodeURIComponent(JSON.stringify({ id: "a8034f44-aee4-44cf-b32c-74cf452aaaae" }));
  const grpc = h2load([
    "-n",
    String(requests),
    "-c",
    "8",
    "-m",
    "16",
    "-d",
    join(work, "grpc.bin"),
    "-H",
    "content-type: application/grpc",
    "-H",
    "te: trailers",
    url,
  ]);
  const connect = h2load([
    "--h1",
    "-n",
    String(requests),
    "-c",
    "32",
    "-d",
    join(work, "connect.json"),
    "-H",
    "content-type: application/json",
    url,
  ]);
  const database = h2load([
    "--h1",
    "-n",
    String(requests / 4),
    "-c",
    "16",
    `http://127.0.0.1:${port}/movie.v1.MovieService/GetMovie?encoding=json&message=${movie}`,
  ]);
  const peakRssMiB = peakRss(pid);

  const rows = [
    ["gRPC unary over h2c (8 conns x 16 streams)", grpc.rps, targets.grpcRequestsPerSecond, "req/s", grpc.meanLatency],
    ["Connect JSON unary over HTTP/1.1 (32 conns)", connect.rps, targets.connectRequestsPerSecond, "req/s", connect.meanLatency],
    [
      "GetMovie from the database, Connect GET over HTTP/1.1 (16 conns)",
      database.rps,
      targets.databaseRequestsPerSecond,
      "req/s",
      database.meanLatency,
    ],
  ] as const;
  let missed = false;
  for (const [name, value, floor, unit, latency] of rows) {
    const ok = value >= floor;
    missed ||= !ok;
    console.log(`${ok ? "ok  " : "MISS"} ${name}: ${value.toFixed(0)} ${unit} (target >= ${floor}), mean latency ${latency}`);
  }
  const growthMiB = peakRssMiB - rssBeforeLoadMiB;
  const memoryOk = peakRssMiB <= targets.peakRssMiB && growthMiB <= targets.rssGrowthUnderLoadMiB;
  missed ||= !memoryOk;
  console.log(
    `${memoryOk ? "ok  " : "MISS"} server RSS: ${rssBeforeLoadMiB.toFixed(0)} MiB idle, peak ${peakRssMiB.toFixed(0)} MiB ` +
      `(+${growthMiB.toFixed(0)} under load; targets: peak <= ${targets.peakRssMiB}, growth <= ${targets.rssGrowthUnderLoadMiB})`,
  );
  for (const run of [grpc, connect, database]) {
    if (run.failed > 0) {
      missed = true;
      console.log(`MISS ${run.failed} requests failed`);
    }
  }
  process.exitCode = missed ? 1 : 0;
} finally {
  server.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}

function h2load(args: string[]): { rps: number; failed: number; meanLatency: string } {
  const run = spawnSync("h2load", args, { encoding: "utf8" });
  const out = run.stdout;
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1];
  const done = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const latency = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1];
  if (rps === undefined || done === null) throw new Error(`could not read h2load's output:\n${out}\n${run.stderr}`);
  return { rps: Number(rps), failed: Number(done[2]) + Number(done[3]), meanLatency: latency ?? "?" };
}

/** Highest resident set size the process reached, in MiB (Linux). */
function peakRss(pid: number): number {
  return procStatusMiB(pid, "VmHWM");
}

function currentRss(pid: number): number {
  return procStatusMiB(pid, "VmRSS");
}

function procStatusMiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  return Number(kib) / 1024;
}

/** The port from the server's "serving" log line. */
async function serverPort(file: string): Promise<number> {
  for (let waited = 0; waited < 30_000; waited += 50) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const { port } = (line ? JSON.parse(line) : {}) as { port?: number };
      if (port !== undefined) return port;
    }
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
    await sleep(50);
  }
  server.kill();
  throw new Error("the server did not start within 30 s");
}
