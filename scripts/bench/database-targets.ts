import type { Cell, TargetCheck } from "./report.js";
import type { ServerId } from "./servers.js";

/**
 * The database workloads' targets: GetMovie's and CreateOrder's CPU per call
 * on each engine under the closed 8×16 loop (the server's own CPU: on
 * PostgreSQL the database's is reported beside it, not judged), and
 * CreateOrder's latency and event-loop delay at a fixed 1,000 calls/s.
 */
const rssAfterDatabaseMiB = 150e6 / 2 ** 20;

export function databaseTargets(cells: readonly Cell[], idleRssMiB: number | undefined): TargetCheck[] {
  const cell = (workload: string, server: ServerId) => cells.find((c) => c.workload === workload && c.server === server);
  const checks: TargetCheck[] = [];
  for (const [server, engine, atMostUs] of [
    ["this-database", "the embedded database", 100],
    ["this-postgres", "PostgreSQL", 130],
  ] as const) {
    const target = `GetMovie 8×16 on ${engine}: ≤ ${atMostUs} µs of the server's CPU per call`;
    const found = cell("db-get-movie", server);
    if (found === undefined) checks.push({ target, ok: undefined, detail: "not measured" });
    else {
      const database = found.postgresCpuUsPerUnit === undefined ? "" : ` (PostgreSQL's own: ${found.postgresCpuUsPerUnit.toFixed(1)} µs)`;
      checks.push({ target, ok: found.cpuUsPerUnit <= atMostUs, detail: `${found.cpuUsPerUnit.toFixed(1)} µs${database}` });
    }
  }
  for (const [server, engine, atMostUs] of [
    ["this-database", "the embedded database (synchronous=full)", 250],
    ["this-postgres", "PostgreSQL", 350],
  ] as const) {
    const target = `CreateOrder 8×16 on ${engine}: ≤ ${atMostUs} µs of the server's CPU per call`;
    const found = cell("db-create-order", server);
    if (found === undefined) checks.push({ target, ok: undefined, detail: "not measured" });
    else {
      const database = found.postgresCpuUsPerUnit === undefined ? "" : ` (PostgreSQL's own: ${found.postgresCpuUsPerUnit.toFixed(1)} µs)`;
      checks.push({ target, ok: found.cpuUsPerUnit <= atMostUs, detail: `${found.cpuUsPerUnit.toFixed(1)} µs${database}` });
    }
  }
  // The embedded engine's memory once the server is idle after both database workloads (and every workload before them);
  // the RSS each run ended with is in the table.
  const rssTarget = `RSS once idle after the database workloads on the embedded database ≤ 150 MB (${rssAfterDatabaseMiB.toFixed(1)} MiB)`;
  if (idleRssMiB === undefined) checks.push({ target: rssTarget, ok: undefined, detail: "not measured" });
  else {
    const highest = Math.max(...cells.filter((c) => c.server === "this-database" && c.workload.startsWith("db-")).map((c) => c.rssMiB));
    const atRunEnd = Number.isFinite(highest) ? `; ${highest.toFixed(0)} MiB at most as a run ended` : "";
    checks.push({ target: rssTarget, ok: idleRssMiB <= rssAfterDatabaseMiB, detail: `${idleRssMiB.toFixed(0)} MiB${atRunEnd}` });
  }
  // Latency and event-loop delay at a rate the engines sustain (see the paced workload).
  for (const [server, engine] of [
    ["this-database", "the embedded database"],
    ["this-postgres", "PostgreSQL"],
  ] as const) {
    const paced = cell("db-create-order-paced", server);
    const p99Target = `CreateOrder at 1,000/s on ${engine}: p99 < 20 ms`;
    const delayTarget = `CreateOrder at 1,000/s on ${engine}: event-loop delay p99 ≤ 5 ms`;
    if (paced === undefined) {
      checks.push({ target: p99Target, ok: undefined, detail: "not measured" });
      checks.push({ target: delayTarget, ok: undefined, detail: "not measured" });
      continue;
    }
    checks.push({ target: p99Target, ok: paced.p99Ms < 20, detail: `p50 ${paced.p50Ms.toFixed(2)} ms, p99 ${paced.p99Ms.toFixed(1)} ms` });
    const delay = paced.loopDelayP99Ms;
    checks.push({
      target: delayTarget,
      ok: delay === undefined ? undefined : delay <= 5,
      detail: delay === undefined ? "not measured" : `${delay.toFixed(1)} ms`,
    });
  }
  return checks;
}
