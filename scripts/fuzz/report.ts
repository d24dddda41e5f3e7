import type { Failure, RunResult } from "./runner.js";

/** Problems that differ only in numbers or quoted values are one finding. */
function signature(failure: Failure): string {
  const problem = failure.problem
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\b\d+(\.\d+)?\b/g, "N")
    .replace(/case N:N/g, "case …");
  return `${failure.kind}: ${problem}`;
}

function table(map: Map<string, number>, limit = 60): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, value]) => `  ${String(value).padStart(7)}  ${key}`);
}

/** The summary printed at the end of a run: what ran, what came back, what failed and how to replay it. */
export function summarize(result: RunResult, replayCommand: string): string {
  const lines: string[] = [];
  lines.push("");
  const fuzzing = Math.max(0.001, result.seconds - result.supervisedSeconds);
  lines.push(
    `fuzz summary: seed ${result.seed}, ${result.casesRun} cases in ${result.seconds.toFixed(1)} s ` +
      `(${fuzzing.toFixed(1)} s sending cases, ${(result.casesRun / fuzzing).toFixed(0)}/s; ${result.supervisedSeconds.toFixed(1)} s paused for canaries, stalls and crashes), ` +
      `${result.restarts} server restart(s)`,
  );
  if (result.stoppedEarly !== undefined) lines.push(`STOPPED EARLY: ${result.stoppedEarly}`);
  lines.push("cases by family:", ...table(result.byFamily));
  lines.push("cases by protocol:", ...table(result.byWire));
  lines.push("answers seen:", ...table(result.labels, 80));
  if (result.tolerated.size > 0) lines.push("tolerated (not the server's own code, not failures):", ...table(result.tolerated));
  if (result.rss !== undefined) {
    const growth = ((result.rss.finalMiB - result.rss.baselineMiB) / result.rss.baselineMiB) * 100;
    lines.push(
      `server RSS: ${result.rss.baselineMiB.toFixed(0)} MiB after warm-up${result.rss.sinceCase > 0 ? ` (of the server restarted at case ${result.rss.sinceCase})` : ""}, ` +
        `${result.rss.finalMiB.toFixed(0)} MiB after the run (${growth >= 0 ? "+" : ""}${growth.toFixed(1)}%), peak sampled ${result.rss.peakMiB.toFixed(0)} MiB`,
      `server RSS (MiB) after N cases: ${result.rss.samples.map(([cases, mib]) => `${cases}: ${mib}`).join(", ")}`,
    );
  }
  if (result.serverWarnings.length > 0) {
    const messages = new Map<string, number>();
    for (const record of result.serverWarnings) {
      const key = String(record.msg ?? "")
        .replace(/\d+/g, "N")
        .slice(0, 160);
      messages.set(key, (messages.get(key) ?? 0) + 1);
    }
    lines.push(`server log lines at warn or above: ${result.serverWarnings.length}`, ...table(messages, 15));
  }
  const failingCases = new Set(result.failures.filter((f) => f.caseId !== undefined).map((f) => f.caseId)).size;
  const otherFailures = result.failures.filter((f) => f.caseId === undefined).length;
  const closing = `fuzz: ${result.casesRun - failingCases} passed, ${failingCases + otherFailures} failed`;
  if (result.failures.length === 0) {
    lines.push("no failures", closing);
    return lines.join("\n");
  }
  const groups = new Map<string, Failure[]>();
  for (const failure of result.failures) {
    const key = signature(failure);
    groups.set(key, [...(groups.get(key) ?? []), failure]);
  }
  lines.push(`FAILURES: ${result.failures.length}, ${groups.size} distinct:`);
  for (const [key, group] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    const first = group[0] as Failure;
    const wires = [...new Set(group.map((f) => f.wire).filter((wire) => wire !== undefined))];
    const familiesSeen = [...new Set(group.map((f) => f.family).filter((family) => family !== undefined))];
    lines.push(`- ${group.length} × ${key}`);
    if (wires.length > 0) lines.push(`    protocols: ${wires.join(", ")}; families: ${familiesSeen.join(", ")}`);
    lines.push(`    e.g. ${first.caseId !== undefined ? `case ${first.caseId} (${first.family}): ` : ""}${first.problem}`);
    const notes = group.filter((f) => f.note !== undefined).slice(0, 5);
    for (const f of notes) lines.push(`    ${f.caseId ?? ""} ${f.note}`);
    const ids = [...new Set(group.map((f) => f.caseId).filter((id) => id !== undefined))];
    if (ids.length > 0) lines.push(`    cases: ${ids.slice(0, 8).join(" ")}${ids.length > 8 ? ` … (${ids.length} in all)` : ""}`);
  }
  const example = result.failures.find((f) => f.caseId !== undefined)?.caseId;
  if (example !== undefined)
    lines.push(`replay one case alone, printing its exact request and answer: ${replayCommand} --replay ${example}`);
  lines.push(closing);
  return lines.join("\n");
}
