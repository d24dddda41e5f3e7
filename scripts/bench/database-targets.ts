import type { Cell, TargetCheck } from "./report.js";
import type { ServerId } from "./servers.js";

/**
 * The database workloads' targets: GetMovie's CPU per call on each engine
 * (the server's own CPU: on PostgreSQL the database's is reported beside it,
 * not judged), and the event-loop delay while CreateOrder loads the server.
 */
export function databaseTargets(cells: readonly Cell[]): TargetCheck[] {
  const cell = (workload: string, server: ServerId) => cells.find((c) => c.workload === workload && c.server === server);
  const checks: TargetCheck[] = [];
  for (const [server, engine, atMostUs] of [
    ["this", "the embedded database", 100],
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
  for (const [server, engine] of [
    ["this", "the embedded database"],
    ["this-postgres", "PostgreSQL"],
  ] as const) {
    const target = `CreateOrder 8×16 on ${engine}: event-loop delay p99 ≤ 5 ms`;
    const delay = cell("db-create-order", server)?.loopDelayP99Ms;
    if (delay === undefined) checks.push({ target, ok: undefined, detail: "not measured" });
    else checks.push({ target, ok: delay <= 5, detail: `${delay.toFixed(1)} ms` });
  }
  return checks;
}
