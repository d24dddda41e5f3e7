/**
 * The side-by-side benchmark (issue 11): one command, one run, the same load
 * generator (h2load, Debian's nghttp2-client) for every server:
 *
 *   - this server, default configuration (call log on, embedded database);
 *   - a plain @grpc/grpc-js server of the same tutorial contract;
 *   - the tutorial's Python grpcio server, when /usr/bin/python3 has grpcio;
 *   - raw node:http2 / node:http servers answering a canned reply: the limit;
 *   - on the gRPC unary 8×16 workload, this server with METRICS=off and with
 *     tracing at sampling 1.0 (to a local OTLP sink): what observability costs;
 *   - when PostgreSQL is reachable, this server on it (the database workloads,
 *     with PostgreSQL's own CPU) and at WORKERS=1 and WORKERS=2;
 *   - and, before all that, the server's start-up time and memory.
 *
 * Servers are pinned to one core and h2load to another (taskset), rounds are
 * interleaved, and each cell is the median of the rounds. Prints a Markdown
 * table and the targets, writes the same as JSON, and exits 1 when a target
 * is missed (2 when the benchmark itself cannot run).
 *
 *   npm run bench                 (about 8 minutes)
 *   npm run bench -- --quick      (a smoke run of under a minute)
 *   npm run bench -- --help
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { h2loadVersion } from "./bench/h2load.js";
import {
  idleMemory,
  type MeasureSettings,
  type MemoryRun,
  measure,
  memoryRun,
  type Run,
  serverCpuMicros,
  serverMemory,
} from "./bench/measure.js";
import { seedMovies } from "./bench/movies.js";
import { type Options, parseOptions, UsageError, usage } from "./bench/options.js";
import { type BenchSchema, benchDatabaseUrl, createBenchSchema, redacted } from "./bench/postgres.js";
import { probe } from "./bench/probe.js";
import { choosePinning, launcherFor } from "./bench/proc.js";
import { readLargestProfile, shareOf } from "./bench/profile-share.js";
import { type CellRuns, checkTargets, costOf, runNotes, summarize, type ValidationShare, workersSummary } from "./bench/report.js";
import { type BenchResults, describe, renderResults } from "./bench/results.js";
import {
  type BenchServer,
  measureSpanFloor,
  pythonMissing,
  type ServerId,
  serverLabels,
  startGrpcio,
  startGrpcJs,
  startOtlpSink,
  startRaw,
  startThisServer,
} from "./bench/servers.js";
import { measureStartups, type StartupRun, startupTargets, summarizeStartup } from "./bench/startup.js";
import { type Expectation, type Workload, workloads } from "./bench/workloads.js";

let options: Options | undefined;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
if (options === undefined) {
  console.log(usage);
  process.exit(0);
}
const settings: Options = options;

const h2load = h2loadVersion();
if (h2load === undefined) {
  console.error("h2load not found: install it with `apt-get install nghttp2-client`");
  process.exit(2);
}

/** Progress goes to stderr, so stdout carries only the report. */
const progress = (line: string) => process.stderr.write(`${line}\n`);

const pinning = choosePinning();
const notes: string[] = [];
notes.push(
  pinning.pinned
    ? `servers pinned to CPU ${pinning.serverCpu}, h2load to CPU ${pinning.loadCpu} (taskset)`
    : `not pinned: ${pinning.reason}; servers and h2load share the CPUs`,
);
const noPython = pythonMissing();
if (noPython !== undefined) notes.push(`grpcio (Python) skipped: ${noPython}`);

const allWorkloads = workloads();
const unknown = (settings.workloads ?? []).filter((id) => !allWorkloads.some((workload) => workload.id === id));
if (unknown.length > 0) {
  console.error(`unknown workloads: ${unknown.join(", ")}; known: ${allWorkloads.map((workload) => workload.id).join(", ")}`);
  process.exit(2);
}
let chosen = allWorkloads
  .filter((workload) =>
    settings.workloads === undefined ? !(settings.quick && workload.needs === "postgres") : settings.workloads.includes(workload.id),
  )
  .map((workload): Workload => ({ ...workload, servers: workload.servers.filter((id) => id !== "grpcio" || noPython === undefined) }));
const memoryWorkload = allWorkloads.find((workload) => workload.id === "grpc-unary-8x16");
if (memoryWorkload === undefined) throw new Error("the gRPC unary 8×16 workload is missing");

const work = mkdtempSync(join(tmpdir(), "bench-"));
const measureSettings: MeasureSettings = {
  workDir: work,
  loadLauncher: launcherFor(pinning, "load"),
  warmupMs: settings.warmupMs,
  durationMs: settings.durationMs,
  // A smoke run measures nothing it judges, and may share the machine with other tests.
  quietWaitMs: settings.quick ? 0 : 10_000,
  cpus: pinning.pinned ? { server: pinning.serverCpu, load: pinning.loadCpu } : undefined,
};
const loadBefore = loadavg()[0] ?? Number.NaN;
const servers = new Map<ServerId, BenchServer>();
const helpers: Array<{ stop(): Promise<void> }> = [];
let schema: BenchSchema | undefined;
let exitCode = 2;

try {
  const workersWorkload = allWorkloads.find((workload) => workload.needs === "postgres");
  if (workersWorkload !== undefined && settings.quick && settings.workloads === undefined) {
    notes.push(`WORKERS=1 vs 2 skipped in a --quick run (ask for it with --workloads ${workersWorkload.id})`);
  }
  const wantsWorkers = chosen.some((workload) => workload.needs === "postgres");
  const wantsPostgresServer = chosen.some((workload) => workload.servers.includes("this-postgres"));
  if (wantsWorkers || wantsPostgresServer) {
    const base = benchDatabaseUrl(process.env);
    try {
      schema = await createBenchSchema(base);
      notes.push(`PostgreSQL at ${redacted(base)}, schema ${schema.schema} (dropped afterwards), seeded with the same movies`);
      if (wantsPostgresServer) {
        notes.push(
          "This server on PostgreSQL: one process pinned as this server is; PostgreSQL's processes are not pinned (they run on " +
            "either core), and its CPU per call is that of every postgres process, other clients' during the run included",
        );
      }
      if (wantsWorkers) {
        notes.push(
          "WORKERS=1 vs 2: these servers are not pinned and share the cores with h2load, and their CPU is summed over the " +
            "primary and its workers",
        );
      }
    } catch (error) {
      chosen = chosen
        .filter((workload) => workload.needs !== "postgres")
        .map((workload) => ({ ...workload, servers: workload.servers.filter((id) => id !== "this-postgres") }));
      notes.push(
        `${[...(wantsPostgresServer ? ["This server on PostgreSQL"] : []), ...(wantsWorkers ? ["WORKERS=1 vs 2"] : [])].join(" and ")} ` +
          `skipped: PostgreSQL at ${redacted(base)} is not usable (${(error as Error).message}); ` +
          "set BENCH_DATABASE_URL to a database where the benchmark may create a schema",
      );
    }
  }

  for (const workload of [...chosen, memoryWorkload]) {
    if (workload.body !== undefined) writeFileSync(join(work, `${workload.id}.body`), workload.body);
  }

  const dataDir = join(work, "data");
  const catalogueFile = join(work, "catalogue.json");
  let started = performance.now();
  const catalogue = await seedMovies({ engine: "sqlite", dataDir, synchronous: "normal" }, settings.movies);
  writeFileSync(catalogueFile, JSON.stringify(catalogue));
  progress(`seeded ${settings.movies} movies (${catalogue.length} in the catalogue) in ${seconds(started)}`);
  if (schema !== undefined) {
    started = performance.now();
    const onPostgres = await seedMovies({ engine: "postgres", url: schema.url, poolSize: 8, startupTimeoutMs: 10_000 }, settings.movies);
    if (onPostgres.length !== catalogue.length) {
      throw new Error(`PostgreSQL has ${onPostgres.length} movies after seeding, the embedded database ${catalogue.length}`);
    }
    progress(`seeded the same movies into PostgreSQL in ${seconds(started)}`);
  }

  // Before the other servers start, so nothing else runs meanwhile.
  let startupRuns: StartupRun[] = [];
  if (settings.startupRuns > 0) {
    progress(`start-up: ${settings.startupRuns} run(s) each on a new data folder, the same folder again, and memory://`);
    startupRuns = await measureStartups(work, settings.startupRuns, 1_000, measureSettings.quietWaitMs, progress);
  }
  const startup = summarizeStartup(startupRuns);

  started = performance.now();
  const needed = new Set<ServerId>(["this", ...chosen.flatMap((workload) => workload.servers)]);
  const serverLauncher = launcherFor(pinning, "server");
  /** The OTLP sink's port, when the tracing variant runs. */
  let sinkPort: number | undefined;
  // Each its own process, started one after the other so none starts under another's start-up load.
  if (needed.has("this")) servers.set("this", await startThisServer(dataDir, serverLauncher));
  if (needed.has("this-database")) {
    const databaseDir = join(work, "data-database");
    cpSync(dataDir, databaseDir, { recursive: true });
    servers.set("this-database", await startThisServer(databaseDir, serverLauncher, "this-database"));
  }
  // The variants, each on a data folder of its own (the embedded database is one process's).
  if (needed.has("this-metrics-off")) {
    servers.set(
      "this-metrics-off",
      await startThisServer(join(work, "data-metrics-off"), serverLauncher, "this-metrics-off", { METRICS: "off" }),
    );
  }
  if (needed.has("this-heap-fast")) {
    servers.set(
      "this-heap-fast",
      await startThisServer(join(work, "data-heap-fast"), serverLauncher, "this-heap-fast", { HEAP_PROFILE: "fast" }),
    );
  }
  if (needed.has("this-fast-path-off")) {
    servers.set(
      "this-fast-path-off",
      await startThisServer(join(work, "data-fast-path-off"), serverLauncher, "this-fast-path-off", { FAST_PATH: "off" }),
    );
  }
  if (needed.has("this-tracing") || needed.has("this-tracing-sampled")) {
    // The sink on h2load's core: its work is not the server's.
    const sink = await startOtlpSink(launcherFor(pinning, "load"), work);
    helpers.push(sink);
    sinkPort = sink.port;
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}` };
    // The documented production setting (docs/operations.md): a tenth of the traces a client does not decide for.
    const sampled = { ...endpoint, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" };
    for (const [id, variant] of [
      ["this-tracing", { ...endpoint, OTEL_TRACES_SAMPLER: "always_on" }],
      ["this-tracing-sampled", sampled],
    ] as const) {
      if (needed.has(id)) servers.set(id, await startThisServer(join(work, `data-${id}`), serverLauncher, id, variant));
    }
  }
  if (needed.has("this-postgres")) {
    if (schema === undefined) throw new Error("this server on PostgreSQL has no schema");
    servers.set(
      "this-postgres",
      await startThisServer(join(work, "unused"), serverLauncher, "this-postgres", { DATABASE_URL: schema.url, DATA_DIR: "" }),
    );
  }
  for (const [id, workers] of [
    ["workers-1", "1"],
    ["workers-2", "2"],
  ] as const) {
    if (!needed.has(id)) continue;
    if (schema === undefined) throw new Error("the WORKERS comparison has no PostgreSQL schema");
    // Not pinned: two workers need two cores.
    servers.set(id, await startThisServer(join(work, "unused"), [], id, { DATABASE_URL: schema.url, DATA_DIR: "", WORKERS: workers }));
  }
  if (needed.has("grpc-js")) servers.set("grpc-js", await startGrpcJs(catalogueFile, serverLauncher, work));
  if (needed.has("grpcio")) servers.set("grpcio", await startGrpcio(serverLauncher, work));
  if (needed.has("raw-h2")) servers.set("raw-h2", await startRaw("h2", serverLauncher, work));
  if (needed.has("raw-h1")) servers.set("raw-h1", await startRaw("h1", serverLauncher, work));
  progress(`started ${[...servers.keys()].map((id) => serverLabels[id]).join(", ")} in ${seconds(started)}`);

  const server = (id: ServerId): BenchServer => {
    const found = servers.get(id);
    if (found === undefined) throw new Error(`${serverLabels[id]} is not running`);
    return found;
  };
  const expectations = new Map<string, Expectation>();
  const key = (workload: Workload, id: ServerId) => `${workload.id} ${id}`;
  const check = async (workload: Workload, id: ServerId) => {
    const target = server(id);
    const reply = await probe({
      url: `http://127.0.0.1:${target.port}${workload.target}`,
      http1: workload.http1,
      method: workload.method,
      headers: workload.headers,
      body: workload.body,
    });
    try {
      expectations.set(key(workload, id), workload.check(reply));
    } catch (error) {
      throw new Error(`${workload.id} against ${serverLabels[id]}: ${(error as Error).message}`);
    }
    // The probe's call was logged; it must not count in the first run.
    target.loggedFailures?.();
  };
  for (const workload of chosen) for (const id of workload.servers) await check(workload, id);
  if (settings.memoryCalls > 0 && !expectations.has(key(memoryWorkload, "this"))) await check(memoryWorkload, "this");
  const stream = chosen.find((workload) => workload.id === "stream-list-movies");
  const streamed = stream === undefined ? undefined : expectations.get(key(stream, "this"));
  if (stream !== undefined) {
    const theirs = expectations.get(key(stream, "grpc-js"));
    if (theirs !== undefined && streamed !== undefined && theirs.bytesPerCall !== streamed.bytesPerCall) {
      notes.push(
        `ListMovies: grpc-js streams ${theirs.bytesPerCall} bytes in ${theirs.messagesPerCall} messages, ` +
          `this server ${streamed.bytesPerCall} in ${streamed.messagesPerCall}`,
      );
    }
  }

  // What each server burns doing nothing (timers, the database's upkeep): it
  // is part of every CPU-per-call figure, most at low rates.
  const idleCpuPct = await idleCpu(servers, settings.quick ? 500 : 2_000);
  progress(`idle CPU: ${describe(Object.fromEntries(idleCpuPct), (pct) => `${pct.toFixed(1)}%`)}`);

  const cells = new Map<string, CellRuns & { runs: Run[] }>();
  const total = chosen.reduce((sum, workload) => sum + workload.servers.length, 0) * settings.rounds;
  const eachS = (settings.warmupMs + settings.durationMs) / 1000 + 0.5;
  progress(`${total} runs of ${eachS.toFixed(1)} s, about ${Math.ceil((total * eachS) / 60)} min, then the memory run`);
  let done = 0;
  for (let round = 1; round <= settings.rounds; round++) {
    for (const workload of chosen) {
      // Rotate who goes first each round, so no server always follows the same one.
      const order = workload.servers.map((_, i, all) => all[(i + round - 1) % all.length] as ServerId);
      for (const id of order) {
        const expectation = expectations.get(key(workload, id));
        if (expectation === undefined) throw new Error(`no probe for ${key(workload, id)}`);
        const run = await measure(measureSettings, workload, server(id), expectation, round);
        const cell = cells.get(key(workload, id)) ?? {
          workload: workload.id,
          title: workload.title,
          unit: workload.unit,
          server: id,
          runs: [],
        };
        cell.runs.push(run);
        cells.set(key(workload, id), cell);
        done++;
        progress(
          `[${done}/${total}] round ${round} ${workload.id} ${serverLabels[id]}: ${Math.round(run.rate)} ${workload.unit}/s, ` +
            `p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, ${run.cpuUsPerUnit.toFixed(1)} µs CPU, ` +
            (run.postgresCpuUsPerUnit === undefined ? "" : `PostgreSQL ${run.postgresCpuUsPerUnit.toFixed(1)} µs CPU, `) +
            (run.loopDelayP99Ms === undefined ? "" : `loop delay p99 ${run.loopDelayP99Ms.toFixed(1)} ms, `) +
            `${run.rssMiB.toFixed(0)} MiB${run.failed > 0 ? `, ${run.failed} FAILED` : ""}` +
            (run.cores === undefined
              ? ""
              : `; cores: server ${run.cores.serverCorePct.toFixed(0)}% (others ${run.cores.othersOnServerCorePct.toFixed(0)}%), ` +
                `h2load ${run.cores.loadCorePct.toFixed(0)}%`),
        );
      }
    }
  }

  // The embedded engine's memory once the server is idle again after the database workloads (and every workload before them).
  let idleRssMiB: number | undefined;
  if (chosen.some((workload) => workload.id.startsWith("db-") && workload.servers.includes("this-database"))) {
    idleRssMiB = await idleMemory(server("this-database"));
    progress(`this server idle after the database workloads: RSS ${idleRssMiB.toFixed(0)} MiB`);
  }

  // Issue 26: what the validation step costs, from a profile of one more unary run on a server of its own.
  let validation: ValidationShare | undefined;
  const unary = chosen.find((workload) => workload.id === "grpc-unary-8x16");
  const unaryExpectation = unary === undefined ? undefined : expectations.get(key(unary, "this"));
  if (unary !== undefined && unaryExpectation !== undefined) {
    const profiles = join(work, "profiles");
    const profiled = await startThisServer(join(work, "data-profiled"), serverLauncher, "this", {
      NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profiles}`,
    });
    try {
      const run = await measure(measureSettings, unary, profiled, unaryExpectation, 1);
      await profiled.stop();
      validation = { ...shareOf(readLargestProfile(profiles), "checkRequest"), cpuUsPerCall: run.cpuUsPerUnit };
      progress(`validation: ${(validation.share * 100).toFixed(1)}% of the server's busy CPU on ${unary.id} (profiled)`);
    } finally {
      await profiled.stop().catch(() => {});
    }
  }

  let memoryResult: MemoryRun | undefined;
  if (settings.memoryCalls > 0) {
    const expectation = expectations.get(key(memoryWorkload, "this"));
    if (expectation === undefined) throw new Error("no probe for the memory run");
    progress(`memory run: ${settings.memoryCalls} gRPC unary calls (8 conn × 16 streams) against this server`);
    memoryResult = await memoryRun(measureSettings, memoryWorkload, server("this"), expectation, settings.memoryCalls, progress);
    progress(
      `memory run: RSS ${memoryResult.rssStartMiB.toFixed(0)} → ${memoryResult.rssEndMiB.toFixed(0)} MiB ` +
        `(${memoryResult.growthPct.toFixed(1)}%), ${Math.round(memoryResult.rate)} calls/s`,
    );
  }
  // After the loads, on the server's core: what a span costs with no server around it.
  const spanFloor = sinkPort === undefined ? undefined : measureSpanFloor(serverLauncher, sinkPort, settings.quick);
  if (spanFloor !== undefined) progress(`span floor: ${spanFloor.spanUs.toFixed(1)} µs CPU per call`);
  const peakRssMiB = new Map([...servers].map(([id, running]) => [id, serverMemory(running).peakMiB]));
  const loadAfter = loadavg()[0] ?? Number.NaN;

  // In the order of the workloads, then of their servers, whatever order they ran in.
  const ordered = chosen.flatMap((workload) => workload.servers.flatMap((id) => cells.get(key(workload, id)) ?? []));
  const summary = summarize(ordered);
  const targets = checkTargets({
    cells: summary,
    memory: memoryResult,
    idleRssMiB,
    validation,
    stream: streamed === undefined ? undefined : { streamed: streamed.messagesPerCall, catalogue: catalogue.length },
  });
  targets.push(...(startupRuns.length === 0 ? [] : startupTargets(startup)));
  const missed = targets.some((target) => target.ok === false);

  const cpu = cpus();
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: {
      cpuModel: cpu[0]?.model ?? "unknown",
      cpus: cpu.length,
      node: process.version,
      h2load,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
    },
    pinning,
    settings,
    notes: [...notes, ...runNotes(ordered)],
    paths: {
      grpc: "/Calculator/SquareRoot (tutorial contract: this server, grpc-js, grpcio, raw node:http2)",
      connect: "/calculator.v1.CalculatorService/SquareRoot (Connect JSON, Connect GET, gRPC-Web; the tutorial contract allows no GET)",
      stream: `/movie.v1.MovieService/ListMovies, ${streamed?.messagesPerCall ?? "?"} movies per stream`,
    },
    cells: summary.map((cell) => ({ ...cell, runs: cells.get(`${cell.workload} ${cell.server}`)?.runs ?? [] })),
    memory: memoryResult,
    // Each variant with its cost against the default server (positive: slower), measured and by CPU per call.
    observability: summary
      .filter(
        (cell) =>
          cell.workload === "grpc-unary-8x16" && ["this", "this-metrics-off", "this-tracing-sampled", "this-tracing"].includes(cell.server),
      )
      .map((cell) => {
        const base = summary.find((other) => other.workload === cell.workload && other.server === "this");
        return { ...cell, costVsDefault: base === undefined ? null : costOf(base, cell) };
      }),
    spanFloor: spanFloor ?? null,
    workers: workersSummary(summary) ?? null,
    startup: { cells: startup, runs: startupRuns },
    peakRssMiB: Object.fromEntries(peakRssMiB),
    idleRssMiB: idleRssMiB ?? null,
    validation: validation ?? null,
    idleCpuPct: Object.fromEntries(idleCpuPct),
    targets,
    ok: !missed,
  };
  console.log(renderResults(results));

  const jsonPath = resolve(settings.jsonPath);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  progress(`results written to ${jsonPath}`);
  exitCode = missed ? 1 : 0;
} catch (error) {
  console.error(`the benchmark failed: ${(error as Error).stack ?? error}`);
} finally {
  for (const running of servers.values()) await running.stop().catch(() => {});
  for (const helper of helpers) await helper.stop().catch(() => {});
  await schema?.drop().catch((error: Error) => console.error(`dropping the schema ${schema?.schema} failed: ${error.message}`));
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);

/** Each server's CPU use while idle, in percent of one core, sampled together over `ms`. */
async function idleCpu(running: ReadonlyMap<ServerId, BenchServer>, ms: number): Promise<Map<ServerId, number>> {
  const before = new Map([...running].map(([id, server]) => [id, serverCpuMicros(server)]));
  const started = performance.now();
  await sleep(ms);
  const elapsedUs = (performance.now() - started) * 1000;
  return new Map([...running].map(([id, server]) => [id, ((serverCpuMicros(server) - (before.get(id) ?? 0)) / elapsedUs) * 100]));
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}
