import { databaseTargets } from "./database-targets.js";
import type { MemoryRun, Run } from "./measure.js";
import type { ProfileShare } from "./profile-share.js";
import { type ServerId, type SpanFloor, serverLabels } from "./servers.js";
import { median } from "./stats.js";

/**
 * The medians of one workload against one server, over the rounds, with the
 * meaning each has in a Run; except `failed`, summed over the rounds (not a
 * median: one failure is too many).
 */
export interface Cell
  extends Pick<Run, "rate" | "p50Ms" | "p99Ms" | "cpuUsPerUnit" | "postgresCpuUsPerUnit" | "loopDelayP99Ms" | "rssMiB" | "failed"> {
  readonly workload: string;
  readonly title: string;
  readonly unit: "calls" | "messages";
  readonly server: ServerId;
  readonly rounds: number;
  /** rate ÷ grpc-js's median rate in the same workload, when grpc-js ran it. */
  readonly vsGrpcJs: number | undefined;
  /** rate ÷ the raw node:http2 / node:http limit's, when it ran. */
  readonly vsRaw: number | undefined;
}

export interface CellRuns {
  readonly workload: string;
  readonly title: string;
  readonly unit: "calls" | "messages";
  readonly server: ServerId;
  readonly runs: readonly Run[];
}

/** Each metric's median on its own (the rounds' medians need not come from the same round). */
export function summarize(all: readonly CellRuns[]): Cell[] {
  const medians = all.map((cell) => {
    const of = (pick: (run: Run) => number) => median(cell.runs.map(pick));
    // Only some servers have these: absent when no run has them.
    const ofSome = (pick: (run: Run) => number | undefined) => {
      const values = cell.runs.flatMap((run) => pick(run) ?? []);
      return values.length === 0 ? undefined : median(values);
    };
    return {
      workload: cell.workload,
      title: cell.title,
      unit: cell.unit,
      server: cell.server,
      rounds: cell.runs.length,
      rate: of((run) => run.rate),
      p50Ms: of((run) => run.p50Ms),
      p99Ms: of((run) => run.p99Ms),
      cpuUsPerUnit: of((run) => run.cpuUsPerUnit),
      postgresCpuUsPerUnit: ofSome((run) => run.postgresCpuUsPerUnit),
      loopDelayP99Ms: ofSome((run) => run.loopDelayP99Ms),
      rssMiB: of((run) => run.rssMiB),
      failed: cell.runs.reduce((sum, run) => sum + run.failed, 0),
    };
  });
  const rateOf = (workload: string, servers: readonly ServerId[]) =>
    medians.find((cell) => cell.workload === workload && servers.includes(cell.server))?.rate;
  return medians.map((cell) => {
    const grpcJs = rateOf(cell.workload, ["grpc-js"]);
    const raw = rateOf(cell.workload, ["raw-h2", "raw-h1"]);
    return {
      ...cell,
      vsGrpcJs: grpcJs === undefined ? undefined : cell.rate / grpcJs,
      vsRaw: raw === undefined ? undefined : cell.rate / raw,
    };
  });
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function fixed(value: number | undefined, digits: number, suffix = ""): string {
  if (value === undefined || Number.isNaN(value)) return "–";
  return `${value.toFixed(digits)}${suffix}`;
}

function ms(value: number): string {
  if (Number.isNaN(value)) return "–";
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** The results as a Markdown table (also readable as plain text), one row per workload and server. */
export function table(cells: readonly Cell[]): string {
  const header = [
    "Workload",
    "Server",
    "Rate /s",
    "p50 ms",
    "p99 ms",
    "CPU µs/unit",
    "PostgreSQL CPU µs/unit",
    "Loop delay p99 ms",
    "× grpc-js",
    "× raw",
    "RSS MiB",
    "Failed",
  ];
  const rows = cells.map((cell, index) => [
    index > 0 && cells[index - 1]?.workload === cell.workload ? "" : cell.title,
    serverLabels[cell.server],
    `${integer.format(cell.rate)}${cell.unit === "messages" ? " msg" : ""}`,
    ms(cell.p50Ms),
    ms(cell.p99Ms),
    fixed(cell.cpuUsPerUnit, 1),
    fixed(cell.postgresCpuUsPerUnit, 1),
    fixed(cell.loopDelayP99Ms, 1),
    fixed(cell.vsGrpcJs, 2, "×"),
    fixed(cell.vsRaw, 2, "×"),
    fixed(cell.rssMiB, 0),
    String(cell.failed),
  ]);
  const line = (columns: readonly string[]) => `| ${columns.join(" | ")} |`;
  const rightAligned = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  return [line(header), line(header.map((_, i) => (rightAligned.has(i) ? "--:" : ":--"))), ...rows.map(line)].join("\n");
}

export interface TargetCheck {
  readonly target: string;
  /** undefined when what it needs was not measured (a workload left out, grpcio missing). */
  readonly ok: boolean | undefined;
  readonly detail: string;
}

/** The validation step's share of the profiled server's busy CPU, and that server's CPU per call in the same run. */
export interface ValidationShare extends ProfileShare {
  readonly cpuUsPerCall: number;
}

export interface TargetInputs {
  readonly cells: readonly Cell[];
  readonly memory: MemoryRun | undefined;
  /** This server's RSS once idle after the database workloads and every other (undefined: not measured). */
  readonly idleRssMiB: number | undefined;
  /** The validation step's share of a profiled server's CPU on gRPC unary 8×16 (undefined: not measured). */
  readonly validation: ValidationShare | undefined;
  /** Movies ListMovies streamed in one call against how many the catalogue has. */
  readonly stream: { readonly streamed: number; readonly catalogue: number } | undefined;
}

/** The targets of issues 11, 23, 25 and 26, each judged from the medians of this run. */
export function checkTargets({ cells, memory, idleRssMiB, validation, stream }: TargetInputs): TargetCheck[] {
  const cell = (workload: string, server: ServerId) => cells.find((c) => c.workload === workload && c.server === server);
  const ours = (workload: string) => cell(workload, "this");
  const checks: TargetCheck[] = [];
  const check = (target: string, ok: boolean | undefined, detail: string) => checks.push({ target, ok, detail });
  const ratio = (target: string, workload: string, against: ServerId, atLeast: number) => {
    const mine = ours(workload);
    const theirs = cell(workload, against);
    if (mine === undefined || theirs === undefined) return check(target, undefined, "not measured");
    const value = mine.rate / theirs.rate;
    check(target, value >= atLeast, `${value.toFixed(2)}× (${integer.format(mine.rate)} vs ${integer.format(theirs.rate)} /s)`);
  };
  ratio("gRPC unary 8×16: ≥ 1.0× grpc-js", "grpc-unary-8x16", "grpc-js", 1.0);
  ratio("gRPC unary 1 conn: ≥ 1.0× grpc-js", "grpc-unary-1x1", "grpc-js", 1.0);
  const tail = ours("grpc-unary-8x16");
  if (tail === undefined) check("gRPC unary 8×16: p99 ≤ 4× p50", undefined, "not measured");
  else {
    const spread = tail.p99Ms / tail.p50Ms;
    check("gRPC unary 8×16: p99 ≤ 4× p50", spread <= 4, `p50 ${ms(tail.p50Ms)} ms, p99 ${ms(tail.p99Ms)} ms (${spread.toFixed(2)}×)`);
  }
  ratio("Connect JSON HTTP/1.1 8 conn: ≥ 50% of the raw node:http limit", "connect-json-h1-8", "raw-h1", 0.5);
  ratio("Connect GET HTTP/1.1 8 conn: ≥ 50% of the raw node:http limit", "connect-get-h1-8", "raw-h1", 0.5);
  ratio("gRPC-Web HTTP/1.1 8 conn: ≥ 50% of the raw node:http limit", "grpc-web-h1-8", "raw-h1", 0.5);
  ratio("Server streaming (ListMovies): ≥ 1.5× grpc-js messages/s", "stream-list-movies", "grpc-js", 1.5);
  for (const workload of ["grpc-unary-8x16", "grpc-unary-1x1"]) {
    const mine = ours(workload);
    const theirs = cell(workload, "grpc-js");
    const target = `CPU per unary call ≤ grpc-js's (${workload})`;
    if (mine === undefined || theirs === undefined) check(target, undefined, "not measured");
    else {
      check(
        target,
        mine.cpuUsPerUnit <= theirs.cpuUsPerUnit,
        `${mine.cpuUsPerUnit.toFixed(1)} vs ${theirs.cpuUsPerUnit.toFixed(1)} µs per call`,
      );
    }
  }
  if (memory === undefined) check("Memory: RSS growth < 10% across the long unary run", undefined, "not measured");
  else {
    check(
      `Memory: RSS growth < 10% across ${integer.format(memory.calls)} unary calls`,
      memory.growthPct < 10,
      `${memory.rssStartMiB.toFixed(0)} → ${memory.rssEndMiB.toFixed(0)} MiB (${memory.growthPct >= 0 ? "+" : ""}${memory.growthPct.toFixed(1)}%), highest ${memory.rssMaxMiB.toFixed(0)} MiB`,
    );
  }
  if (stream === undefined) check("ListMovies streams the whole catalogue", undefined, "not measured");
  else {
    check(
      `ListMovies streams the whole catalogue (${integer.format(stream.catalogue)} movies)`,
      stream.streamed === stream.catalogue,
      `one call streamed ${integer.format(stream.streamed)}`,
    );
  }
  checks.push(...observabilityTargets(cells), ...databaseTargets(cells, idleRssMiB));
  const validationTarget = "Request validation (protovalidate): ≤ 5% of the server's CPU on gRPC unary 8×16 (sampled by --cpu-prof)";
  if (validation === undefined) check(validationTarget, undefined, "not measured");
  else {
    check(
      validationTarget,
      validation.share <= 0.05,
      `${(validation.share * 100).toFixed(1)}% (${validation.samplesInside} of ${validation.busySamples} busy samples), ` +
        `about ${(validation.share * validation.cpuUsPerCall).toFixed(1)} of ${validation.cpuUsPerCall.toFixed(1)} µs per call`,
    );
  }
  const failed = cells.reduce((sum, c) => sum + c.failed, 0) + (memory?.failed ?? 0);
  const where = cells.filter((c) => c.failed > 0).map((c) => `${c.workload}/${c.server}: ${c.failed}`);
  if (memory !== undefined && memory.failed > 0) where.push(`memory run: ${memory.failed}`);
  check("No failed calls", failed === 0, failed === 0 ? "none" : where.join(", "));
  return checks;
}

/**
 * What the runs themselves say about the numbers: runs in which no call
 * ended (too short for the workload), other processes on the servers' core
 * (the machine was not quiet), h2load's core saturated (the rate there may
 * be h2load's limit). Empty when all is well.
 */
export function runNotes(cells: readonly CellRuns[]): string[] {
  const runs = cells.flatMap((cell) => cell.runs.map((run) => ({ cell, run })));
  const where = (list: typeof runs) => {
    if (list.length === runs.length) return "every run";
    const places = [...new Set(list.map(({ cell }) => `${cell.workload}/${serverLabels[cell.server]}`))];
    return places.length <= 6 ? places.join(", ") : `${places.slice(0, 6).join(", ")} and ${places.length - 6} more`;
  };
  const notes: string[] = [];
  const empty = runs.filter(({ run }) => run.units === 0);
  if (empty.length > 0) notes.push(`${empty.length} run(s) ended no call: ${where(empty)}; give them more --duration.`);
  const others = runs.flatMap(({ run }) => (run.cores === undefined ? [] : [run.cores.othersOnServerCorePct]));
  const most = Math.max(0, ...others);
  if (most > 5) {
    notes.push(
      `Not a quiet machine: other processes took a median ${median(others).toFixed(0)}% (up to ${most.toFixed(0)}%) ` +
        "of the servers' core during the measured runs; expect noise.",
    );
  }
  const saturated = runs.filter(({ run }) => run.cores !== undefined && run.cores.loadCorePct >= 90);
  if (saturated.length > 0) {
    notes.push(`h2load's core was at least 90% busy in ${where(saturated)}: there the rate may be the load generator's limit.`);
  }
  return notes;
}

export function targetLines(checks: readonly TargetCheck[]): string {
  return checks.map(({ target, ok, detail }) => `${ok === undefined ? "skip" : ok ? "ok  " : "MISS"} ${target}: ${detail}`).join("\n");
}

/**
 * What a variant costs against a base, in percent of the base's throughput
 * (positive: the variant is slower): as measured, and as the CPU time per
 * call predicts it (a CPU-bound server's throughput is 1 ÷ CPU per call, so
 * 10% more CPU per call is 9.1% less throughput).
 */
export interface Cost {
  readonly throughputPct: number;
  readonly cpuPct: number;
}

export function costOf(base: Pick<Cell, "rate" | "cpuUsPerUnit">, variant: Pick<Cell, "rate" | "cpuUsPerUnit">): Cost {
  return { throughputPct: (1 - variant.rate / base.rate) * 100, cpuPct: (1 - base.cpuUsPerUnit / variant.cpuUsPerUnit) * 100 };
}

const observed = "grpc-unary-8x16";

function signed(pct: number): string {
  if (Number.isNaN(pct)) return "–";
  return `${pct > 0 ? "+" : pct < 0 ? "−" : "±"}${Math.abs(pct).toFixed(1)}%`;
}

/**
 * Issue 13's targets. The checks use CPU per call: servers are pinned to one
 * core and CPU-bound under this load, so throughput is 1 ÷ CPU per call while
 * the core is theirs alone; on a busy machine other processes take a varying
 * share of it and move throughput by more than the 5% judged, while the
 * server's own CPU time per call (from /proc) does not change with that.
 */
export function observabilityTargets(cells: readonly Cell[]): TargetCheck[] {
  const cell = (server: ServerId) => cells.find((c) => c.workload === observed && c.server === server);
  const judged = (target: string, base: Cell | undefined, variant: Cell | undefined, atMostPct: number): TargetCheck => {
    if (base === undefined || variant === undefined) return { target, ok: undefined, detail: "not measured" };
    const cost = costOf(base, variant);
    return {
      target,
      ok: cost.cpuPct <= atMostPct,
      detail:
        `${cost.cpuPct.toFixed(1)}% by CPU per call (${base.cpuUsPerUnit.toFixed(1)} → ${variant.cpuUsPerUnit.toFixed(1)} µs); ` +
        `throughput ${integer.format(base.rate)} → ${integer.format(variant.rate)} /s (${cost.throughputPct.toFixed(1)}%, not judged: noisy)`,
    };
  };
  return [
    judged("Metrics on (tracing off) cost ≤ 5% of unary throughput, by CPU per call", cell("this-metrics-off"), cell("this"), 5),
    // Sampling everything is reported in the table, not judged (issue 25).
    judged("Tracing sampled at 0.1 costs ≤ 5% of unary throughput, by CPU per call", cell("this"), cell("this-tracing-sampled"), 5),
  ];
}

/** The default server and its observability variants side by side, each against the default (metrics on, tracing off). */
export function observabilityTable(cells: readonly Cell[]): string | undefined {
  const base = cells.find((c) => c.workload === observed && c.server === "this");
  const rows = (["this-metrics-off", "this", "this-tracing-sampled", "this-tracing"] as const).flatMap((server) => {
    const found = cells.find((c) => c.workload === observed && c.server === server);
    return found === undefined ? [] : [found];
  });
  if (base === undefined || rows.length < 2) return undefined;
  const line = (columns: readonly string[]) => `| ${columns.join(" | ")} |`;
  const header = ["gRPC unary 8×16", "Calls /s", "vs default", "CPU µs/call", "vs default, as throughput"];
  return [
    line(header),
    line(header.map((_, i) => (i === 0 ? ":--" : "--:"))),
    ...rows.map((row) => {
      const cost = costOf(base, row);
      const own = row.server === "this";
      return line([
        own ? "this server (default: metrics on, tracing off)" : serverLabels[row.server],
        integer.format(row.rate),
        own ? "" : signed(-cost.throughputPct),
        fixed(row.cpuUsPerUnit, 1),
        own ? "" : signed(-cost.cpuPct),
      ]);
    }),
  ].join("\n");
}

/** The span's own cost, measured alone, against the default server's CPU per call: the least tracing can cost. */
export function spanFloorLine(floor: SpanFloor, cells: readonly Cell[]): string {
  const base = cells.find((c) => c.workload === observed && c.server === "this");
  const share =
    base === undefined
      ? ""
      : ` = ${((100 * floor.spanUs) / base.cpuUsPerUnit).toFixed(1)}% of the default server's ${base.cpuUsPerUnit.toFixed(1)} µs`;
  return (
    `A span by itself (the tracing interceptor and the OpenTelemetry SDK exporting to the same sink, around SquareRoot in connect's ` +
    `in-memory transport, no server): ${floor.spanUs.toFixed(1)} µs CPU per call${share}. The rest of the cost above comes ` +
    "from the same work inside a loaded server (among other things, more garbage collection for what spans keep alive until export)."
  );
}

export interface WorkersSummary {
  readonly one: Pick<Cell, "rate" | "cpuUsPerUnit">;
  readonly two: Pick<Cell, "rate" | "cpuUsPerUnit">;
  /** WORKERS=2's rate ÷ WORKERS=1's. */
  readonly ratio: number;
}

/** WORKERS=1 and 2 side by side, when both ran. */
export function workersSummary(cells: readonly Cell[]): WorkersSummary | undefined {
  const one = cells.find((c) => c.server === "workers-1");
  const two = cells.find((c) => c.server === "workers-2");
  if (one === undefined || two === undefined) return undefined;
  return { one, two, ratio: two.rate / one.rate };
}

export function workersLine(summary: WorkersSummary): string {
  return (
    `WORKERS=2 vs WORKERS=1 (gRPC unary 8×16, PostgreSQL): ${integer.format(summary.two.rate)} vs ${integer.format(summary.one.rate)} calls/s ` +
    `(${summary.ratio.toFixed(2)}×); CPU per call, summed over the primary and its workers, ${summary.two.cpuUsPerUnit.toFixed(1)} vs ` +
    `${summary.one.cpuUsPerUnit.toFixed(1)} µs. No target: these servers are not pinned, so their workers share the cores ` +
    "with h2load; on 2 cores h2load takes much of one, and the ratio shows scaling honestly only where the cores outnumber the workers plus h2load."
  );
}
