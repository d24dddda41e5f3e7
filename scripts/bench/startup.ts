/**
 * Start-up (issue 12): how long the server in its default configuration
 * takes from spawn to its "serving" log line, and its resident memory once
 * serving, on a new data folder (migrations, the tutorial's data), on the
 * same folder again (what a restart finds), and with DATA_DIR=memory://.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ServerProcess } from "../lib/server-process.js";
import { machineQuiet } from "./proc.js";
import type { TargetCheck } from "./report.js";
import { defaultEnv } from "./servers.js";
import { median } from "./stats.js";

export type StartupKind = "new" | "existing" | "memory";

export const startupLabels: Record<StartupKind, string> = {
  new: "new data folder",
  existing: "existing data folder",
  memory: "DATA_DIR=memory://",
};

export interface StartupRun {
  readonly kind: StartupKind;
  readonly run: number;
  /** From spawn to the timestamp of the "serving" log line. */
  readonly servingMs: number;
  /** VmRSS once serving, after `settleMs`. */
  readonly rssMiB: number;
}

export interface StartupCell {
  readonly kind: StartupKind;
  readonly runs: number;
  /** Medians over the runs. */
  readonly servingMs: number;
  readonly rssMiB: number;
  /** The slowest run. */
  readonly maxServingMs: number;
}

/** The time (epoch ms) of the first "serving" line of a JSON log (pino, ISO timestamps); undefined without one. */
export function servingAt(log: string): number | undefined {
  for (const line of log.split("\n")) {
    if (!line.includes('"msg":"serving ')) continue;
    try {
      const { time } = JSON.parse(line) as { time?: unknown };
      const at = typeof time === "number" ? time : typeof time === "string" ? Date.parse(time) : Number.NaN;
      if (Number.isFinite(at)) return at;
    } catch {
      // not JSON: look further
    }
  }
  return undefined;
}

/**
 * `runs` rounds of the three start-ups, taking turns; each round's new folder
 * is the next start's existing one. Not pinned: started as `npm start` is,
 * each once the machine is quiet.
 */
export async function measureStartups(
  workDir: string,
  runs: number,
  settleMs: number,
  quietWaitMs: number,
  progress: (line: string) => void,
): Promise<StartupRun[]> {
  const results: StartupRun[] = [];
  for (let run = 1; run <= runs; run++) {
    const folder = join(workDir, `startup-${run}`);
    try {
      for (const kind of ["new", "existing", "memory"] as const) {
        // A start takes a few hundred milliseconds of one core: after seeding, PostgreSQL's
        // autovacuum and checkpoint once doubled it (0.3 s on a quiet machine, 0.7 s then).
        if (quietWaitMs > 0) {
          const busiestPct = await machineQuiet(15, 250, quietWaitMs);
          if (busiestPct >= 15)
            progress(`start-up ${run}/${runs}: the machine is busy (a core ${busiestPct.toFixed(0)}% busy); measuring anyway`);
        }
        // Just before: ServerProcess picks a free port (a millisecond or two), then spawns.
        const spawned = Date.now();
        const server = await ServerProcess.start({ ...defaultEnv(), DATA_DIR: kind === "memory" ? "memory://" : folder });
        try {
          await sleep(settleMs);
          const at = servingAt(readFileSync(server.logPath, "utf8"));
          if (at === undefined) throw new Error(`no "serving" line in the log of a start (${startupLabels[kind]}):\n${server.tail()}`);
          const result = { kind, run, servingMs: at - spawned, rssMiB: server.rssMiB() };
          results.push(result);
          progress(
            `start-up ${run}/${runs}, ${startupLabels[kind]}: serving after ${result.servingMs} ms, RSS ${result.rssMiB.toFixed(0)} MiB`,
          );
        } finally {
          await server.stop();
        }
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }
  return results;
}

export function summarizeStartup(runs: readonly StartupRun[]): StartupCell[] {
  return (["new", "existing", "memory"] as const).flatMap((kind) => {
    const mine = runs.filter((run) => run.kind === kind);
    if (mine.length === 0) return [];
    return [
      {
        kind,
        runs: mine.length,
        servingMs: median(mine.map((run) => run.servingMs)),
        rssMiB: median(mine.map((run) => run.rssMiB)),
        maxServingMs: Math.max(...mine.map((run) => run.servingMs)),
      },
    ];
  });
}

export function startupTable(cells: readonly StartupCell[]): string {
  const line = (columns: readonly string[]) => `| ${columns.join(" | ")} |`;
  const header = ["Start-up (default configuration)", "Runs", "Serving after s", "Slowest s", "RSS after start MiB"];
  return [
    line(header),
    line(header.map((_, i) => (i === 0 ? ":--" : "--:"))),
    ...cells.map((cell) =>
      line([
        startupLabels[cell.kind],
        String(cell.runs),
        (cell.servingMs / 1000).toFixed(2),
        (cell.maxServingMs / 1000).toFixed(2),
        cell.rssMiB.toFixed(0),
      ]),
    ),
  ].join("\n");
}

/** 100 MB, as issue 23 says it, in MiB: 95.4. */
const rssLimitMiB = 100e6 / 2 ** 20;

/** Issue 23's targets, on the medians. */
export function startupTargets(cells: readonly StartupCell[]): TargetCheck[] {
  const cell = (kind: StartupKind) => cells.find((c) => c.kind === kind);
  const serving = (kind: StartupKind, withinS: number): TargetCheck => {
    const target = `Start-up, ${startupLabels[kind]}: serving within ${withinS} s`;
    const found = cell(kind);
    if (found === undefined) return { target, ok: undefined, detail: "not measured" };
    return {
      target,
      ok: found.servingMs <= withinS * 1000,
      detail: `median ${(found.servingMs / 1000).toFixed(2)} s of ${found.runs}, slowest ${(found.maxServingMs / 1000).toFixed(2)} s`,
    };
  };
  const measured = cells.length > 0;
  const rss = cells.map((c) => `${startupLabels[c.kind]} ${c.rssMiB.toFixed(0)}`).join(", ");
  return [
    serving("new", 1),
    serving("existing", 0.5),
    {
      target: `RSS after start ≤ 100 MB (${rssLimitMiB.toFixed(1)} MiB) on a new folder, an existing one and memory://`,
      ok: measured ? cells.every((c) => c.rssMiB <= rssLimitMiB) : undefined,
      detail: measured ? `${rss} MiB (medians)` : "not measured",
    },
  ];
}
