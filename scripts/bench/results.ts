import type { MemoryRun, Run } from "./measure.js";
import type { Options } from "./options.js";
import type { Pinning } from "./proc.js";
import {
  type Cell,
  type Cost,
  observabilityTable,
  spanFloorLine,
  type TargetCheck,
  table,
  targetLines,
  type ValidationShare,
  type WorkersSummary,
  workersLine,
} from "./report.js";
import { type ServerId, type SpanFloor, serverLabels } from "./servers.js";
import { type StartupCell, type StartupRun, startupTable } from "./startup.js";

/** What `npm run bench` writes to bench-results.json: everything its report shows, and every run behind it. */
export interface BenchResults {
  readonly date: string;
  readonly machine: {
    readonly cpuModel: string;
    readonly cpus: number;
    readonly node: string;
    readonly h2load: string;
    readonly loadAverageBefore: number;
    readonly loadAverageAfter: number;
  };
  readonly pinning: Pinning;
  readonly settings: Options;
  /** How the run went (pinning, what was skipped), then what the runs themselves showed. */
  readonly notes: readonly string[];
  readonly paths: { readonly grpc: string; readonly connect: string; readonly stream: string };
  readonly cells: ReadonlyArray<Cell & { readonly runs: readonly Run[] }>;
  readonly memory: MemoryRun | undefined;
  readonly observability: ReadonlyArray<Cell & { readonly costVsDefault: Cost | null }>;
  readonly spanFloor: SpanFloor | null;
  readonly workers: WorkersSummary | null;
  readonly startup: { readonly cells: readonly StartupCell[]; readonly runs: readonly StartupRun[] };
  readonly peakRssMiB: Readonly<Partial<Record<ServerId, number>>>;
  /** The RSS of this server's database process once idle after the database workloads (null: not measured; absent in older results; before 2026-12-07 16:00, of the one process that ran every workload). */
  readonly idleRssMiB?: number | null;
  /** The validation step's share of a profiled server's CPU on gRPC unary 8×16 (null: not measured; absent in older results). */
  readonly validation?: ValidationShare | null;
  readonly idleCpuPct: Readonly<Partial<Record<ServerId, number>>>;
  readonly targets: readonly TargetCheck[];
  readonly ok: boolean;
}

/** The report `npm run bench` prints, and docs/performance.md shows, from the results alone. */
export function renderResults(results: BenchResults): string {
  const { machine, settings, cells, spanFloor, workers, startup } = results;
  const observability = observabilityTable(cells);
  const lines = [
    `Benchmark of ${results.date}: ${machine.cpuModel} × ${machine.cpus}, Node ${machine.node}, h2load ${machine.h2load}`,
    `${settings.rounds} round(s), each run ${settings.warmupMs / 1000} s warm-up + ${settings.durationMs / 1000} s measured; medians. ` +
      `Load average before ${machine.loadAverageBefore.toFixed(2)}, after ${machine.loadAverageAfter.toFixed(2)}.`,
    ...results.notes,
    `gRPC rows call ${results.paths.grpc}; Connect and gRPC-Web rows call ${results.paths.connect}; streaming: ${results.paths.stream}.`,
    "",
    table(cells),
    "",
    `Peak RSS (VmHWM): ${describe(results.peakRssMiB, (mib) => `${mib.toFixed(0)} MiB`)}. ` +
      (results.idleRssMiB === undefined || results.idleRssMiB === null
        ? ""
        : `This server's RSS once idle after the database workloads: ${results.idleRssMiB.toFixed(0)} MiB. `) +
      `Idle CPU: ${describe(results.idleCpuPct, (pct) => `${pct.toFixed(1)}%`)}.`,
    ...(observability === undefined
      ? []
      : [
          "",
          "What metrics and tracing cost (medians; tracing exports to a local OTLP/HTTP sink on h2load's core):",
          "",
          observability,
          ...(spanFloor === null ? [] : ["", spanFloorLine(spanFloor, cells)]),
        ]),
    ...(workers === null ? [] : ["", workersLine(workers)]),
    ...(startup.cells.length === 0
      ? []
      : ["", 'Start-up, from spawn to the "serving" log line, and RSS 1 s later (medians; not pinned):', "", startupTable(startup.cells)]),
    "",
    "Targets:",
    targetLines(results.targets),
  ];
  return lines.join("\n");
}

/** Each server's figure, in the order of the table. */
export function describe(values: Readonly<Partial<Record<ServerId, number>>>, format: (value: number) => string): string {
  return Object.entries(values)
    .map(([id, value]) => `${serverLabels[id as ServerId]} ${format(value as number)}`)
    .join(", ");
}
