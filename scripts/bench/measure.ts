import { rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type H2loadAmount, type H2loadLoad, type H2loadSummary, h2loadArgs, latenciesFromLogFile, runH2load } from "./h2load.js";
import { scrapeLoopDelayP99Ms } from "./loop-delay.js";
import {
  busyPct,
  type CoreTimes,
  commandCpuMicros,
  coreTimes,
  cpuMicros,
  type Memory,
  machineQuiet,
  memory,
  processTree,
  sumOver,
} from "./proc.js";
import type { BenchServer } from "./servers.js";
import type { Expectation, Workload } from "./workloads.js";

/** One run of one workload against one server. */
export interface Run {
  readonly round: number;
  readonly seconds: number;
  /** Whole calls h2load saw end (for a stream: whole streams). */
  readonly calls: number;
  /** Calls, or messages for a stream workload. */
  readonly units: number;
  /** Units per second. */
  readonly rate: number;
  /** Per call (for a stream: the whole stream), from h2load's per-request log. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU (user + system, all threads) per unit, from /proc. */
  readonly cpuUsPerUnit: number;
  /**
   * For a server on PostgreSQL: the CPU of every process named postgres per
   * unit (backends, WAL writer, checkpointer), from /proc; other clients of
   * the same PostgreSQL during the run count too.
   */
  readonly postgresCpuUsPerUnit?: number;
  /** Ours (one process, metrics on): the p99 of its event-loop delay during the measured run, from its /metrics. */
  readonly loopDelayP99Ms?: number;
  /** The server's resident memory right after the run. */
  readonly rssMiB: number;
  /** Calls that failed, in the warm-up or the run (see failures()). */
  readonly failed: number;
  /**
   * When pinned, how busy the cores were (percent, from /proc/stat): the
   * server's core, the part of it other processes took (a busy machine), and
   * h2load's core (near 100: the rate may be h2load's limit, not the server's).
   */
  readonly cores?: { readonly serverCorePct: number; readonly othersOnServerCorePct: number; readonly loadCorePct: number };
}

export interface MeasureSettings {
  readonly workDir: string;
  /** The command prefix that pins h2load to its core. */
  readonly loadLauncher: readonly string[];
  readonly warmupMs: number;
  readonly durationMs: number;
  /** How long a run may wait for the machine to be quiet before it starts (0: it does not wait). */
  readonly quietWaitMs: number;
  /** The cores of servers and h2load, when pinned. */
  readonly cpus: { readonly server: number; readonly load: number } | undefined;
}

export function loadOf(workload: Workload, server: BenchServer, workDir: string): H2loadLoad {
  return {
    url: `http://127.0.0.1:${server.port}${workload.target}`,
    http1: workload.http1,
    connections: workload.connections,
    streams: workload.streams,
    headers: workload.headers,
    bodyFile: workload.body === undefined ? undefined : join(workDir, `${workload.id}.body`),
    ...(workload.ratePerConnection === undefined ? {} : { ratePerConnection: workload.ratePerConnection }),
  };
}

/**
 * Failed calls, as the best of three lower bounds (each sees failures the
 * others miss): h2load's failed and timed-out requests (errors on the wire,
 * non-2xx answers: Connect errors); the answers too short for their count
 * (a gRPC error is 200 with trailers and no message, which h2load counts as
 * a success, but it brings none of the expected bytes); and, for our server,
 * the calls its own call log says failed.
 */
export function failures(summary: H2loadSummary, expectation: Expectation, loggedFailures: number): number {
  const h2load = summary.failed + summary.timedOut;
  let short = 0;
  const bytes = expectation.bytesPerCall;
  if (bytes !== undefined && bytes > 0) {
    const missing = summary.done * bytes - summary.dataBytes;
    if (missing > 0) short = Math.ceil(missing / bytes);
  }
  return Math.max(h2load, short, loggedFailures);
}

/**
 * Warm-up (its own h2load run, so h2load's counts and the server's CPU
 * reading cover only the measured run), then the measured run with a
 * per-request log for percentiles, CPU time read from /proc before and after.
 */
export async function measure(
  settings: MeasureSettings,
  workload: Workload,
  server: BenchServer,
  expectation: Expectation,
  round: number,
): Promise<Run> {
  const load = loadOf(workload, server, settings.workDir);
  // What an earlier run left the machine (PostgreSQL's autovacuum and
  // checkpoints after a run of CreateOrder) runs on the servers' core too.
  if (settings.quietWaitMs > 0) await machineQuiet(15, 250, settings.quietWaitMs);
  const warm = await runH2load(h2loadArgs(load, { durationMs: settings.warmupMs }), settings.loadLauncher);
  await settle(server);
  const warmFailed = failures(warm, expectation, server.loggedFailures?.() ?? 0);
  const logFile = join(settings.workDir, "requests.tsv");
  // Empties the delay histogram, so the scrape after the run reads the run's alone.
  if (server.scrapesLoopDelay === true) await scrapeLoopDelayP99Ms(server.port);
  const coresBefore = coreTimes();
  const postgresBefore = server.onPostgres === true ? commandCpuMicros("postgres") : 0;
  const cpuBefore = serverCpuMicros(server);
  const started = performance.now();
  const summary = await runH2load(h2loadArgs(load, { durationMs: settings.durationMs }, logFile), settings.loadLauncher);
  const cpuUs = serverCpuMicros(server) - cpuBefore;
  const postgresUs = server.onPostgres === true ? commandCpuMicros("postgres") - postgresBefore : 0;
  const wallUs = (performance.now() - started) * 1000;
  const coresAfter = coreTimes();
  const loopDelayP99Ms = server.scrapesLoopDelay === true ? await scrapeLoopDelayP99Ms(server.port) : undefined;
  const { rssMiB } = serverMemory(server);
  // Leaves the next run an idle server (see settle()).
  await settle(server);
  const latencies = latenciesFromLogFile(logFile);
  rmSync(logFile, { force: true });
  const units = unitsOf(workload, expectation, summary);
  return {
    round,
    seconds: summary.seconds,
    calls: summary.done,
    units,
    rate: units / summary.seconds,
    p50Ms: latencies.p50Us / 1000,
    p99Ms: latencies.p99Us / 1000,
    cpuUsPerUnit: units > 0 ? cpuUs / units : Number.NaN,
    ...(server.onPostgres === true ? { postgresCpuUsPerUnit: units > 0 ? postgresUs / units : Number.NaN } : {}),
    ...(loopDelayP99Ms === undefined ? {} : { loopDelayP99Ms }),
    rssMiB,
    failed: warmFailed + failures(summary, expectation, server.loggedFailures?.() ?? 0),
    // A tree server is not pinned: its processes are on any core, so the server core's figures would not be its own.
    ...(settings.cpus === undefined || server.tree === true
      ? {}
      : { cores: coreUse(settings.cpus, coresBefore, coresAfter, (cpuUs / wallUs) * 100) }),
  };
}

function coreUse(cpus: { server: number; load: number }, before: CoreTimes, after: CoreTimes, serverOwnPct: number): Run["cores"] {
  const serverCorePct = busyPct(before, after, cpus.server);
  return {
    serverCorePct,
    othersOnServerCorePct: Math.max(0, serverCorePct - serverOwnPct),
    loadCorePct: busyPct(before, after, cpus.load),
  };
}

/** The server's CPU time so far: its process's, or its whole tree's (a WORKERS=n primary and its workers). */
export function serverCpuMicros(server: Pick<BenchServer, "pid" | "tree">): number {
  return server.tree === true ? sumOver(processTree(server.pid), cpuMicros) : cpuMicros(server.pid);
}

/** The server's memory: its process's, or summed over its tree (the peaks' sum is then an upper bound). */
export function serverMemory(server: Pick<BenchServer, "pid" | "tree">): Memory {
  if (server.tree !== true) return memory(server.pid);
  const pids = processTree(server.pid);
  return { rssMiB: sumOver(pids, (pid) => memory(pid).rssMiB), peakMiB: sumOver(pids, (pid) => memory(pid).peakMiB) };
}

/**
 * The server's RSS once it has been idle for `idleMs` after its last run:
 * with HEAP_PROFILE=small it gives back what a burst grew once its event
 * loop has been idle for a while (server/heap-profile.ts), which a reading
 * taken as a run ends cannot show.
 */
export async function idleMemory(server: Pick<BenchServer, "pid" | "tree">, idleMs = 6_000): Promise<number> {
  await settle(server);
  await sleep(idleMs);
  return serverMemory(server).rssMiB;
}

/**
 * Waits until the server's CPU use falls under `quietPct` of a core over a
 * `windowMs` window (at most `timeoutMs`). When h2load's time is up, the
 * calls it had in flight are abandoned, but a server may still finish them:
 * ours runs their queued database queries. That work must not fall into the
 * next measured run (a slow workload of 0.5 s once measured nothing else).
 */
export async function settle(server: Pick<BenchServer, "pid" | "tree">, quietPct = 10, windowMs = 100, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const before = serverCpuMicros(server);
    const started = performance.now();
    await sleep(windowMs);
    const usedPct = ((serverCpuMicros(server) - before) / ((performance.now() - started) * 1000)) * 100;
    if (usedPct < quietPct) return;
  }
}

/**
 * h2load counts requests, and a ListMovies call is one request however many
 * messages it streams. Messages are counted from the body bytes received
 * (the probe measured a whole stream's bytes and messages): that also counts
 * the messages of streams still running when the time is up.
 */
function unitsOf(workload: Workload, expectation: Expectation, summary: H2loadSummary): number {
  if (workload.unit === "calls") return summary.done;
  const bytes = expectation.bytesPerCall;
  if (bytes === undefined) throw new Error(`${workload.id}: messages are counted by bytes, so the answer must have a fixed size`);
  return Math.round((summary.dataBytes * expectation.messagesPerCall) / bytes);
}

export interface MemoryRun {
  readonly calls: number;
  readonly warmupCalls: number;
  /** After the warm-up calls, before the counted ones. */
  readonly rssStartMiB: number;
  readonly rssEndMiB: number;
  /** The highest RSS sampled (every 500 ms) during the counted calls. */
  readonly rssMaxMiB: number;
  readonly growthPct: number;
  readonly rate: number;
  readonly failed: number;
}

/** `calls` unary calls in one h2load run, with the server's RSS sampled after a warm-up, during and at the end. */
export async function memoryRun(
  settings: MeasureSettings,
  workload: Workload,
  server: BenchServer,
  expectation: Expectation,
  calls: number,
  progress: (line: string) => void,
): Promise<MemoryRun> {
  const load = loadOf(workload, server, settings.workDir);
  const run = (amount: H2loadAmount, onProgress?: (percent: number) => void) =>
    runH2load(h2loadArgs(load, amount), settings.loadLauncher, onProgress);
  // A tenth of the calls, at least 10,000 (or all of them, for a short run).
  const warmupCalls = Math.round(Math.max(calls / 10, Math.min(calls, 10_000)));
  const warm = await run({ requests: warmupCalls });
  await settle(server);
  let failed = failures(warm, expectation, server.loggedFailures?.() ?? 0);
  const rssStartMiB = serverMemory(server).rssMiB;
  let rssMaxMiB = rssStartMiB;
  const sampler = setInterval(() => {
    rssMaxMiB = Math.max(rssMaxMiB, serverMemory(server).rssMiB);
  }, 500);
  let summary: H2loadSummary;
  try {
    // h2load prints a line per 10% of the calls: a long run shows it is alive.
    summary = await run({ requests: calls }, (percent) =>
      progress(`memory run: ${percent}% done, RSS ${serverMemory(server).rssMiB.toFixed(0)} MiB`),
    );
  } finally {
    clearInterval(sampler);
  }
  const rssEndMiB = serverMemory(server).rssMiB;
  rssMaxMiB = Math.max(rssMaxMiB, rssEndMiB);
  failed += failures(summary, expectation, server.loggedFailures?.() ?? 0);
  return {
    calls: summary.done,
    warmupCalls,
    rssStartMiB,
    rssEndMiB,
    rssMaxMiB,
    growthPct: ((rssEndMiB - rssStartMiB) / rssStartMiB) * 100,
    rate: summary.requestsPerSecond,
    failed,
  };
}
