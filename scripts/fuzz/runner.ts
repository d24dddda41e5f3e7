import { setTimeout as sleep } from "node:timers/promises";
import { canary } from "../lib/canary.js";
import { ServerProcess } from "../lib/server-process.js";
import type { Case, Family } from "./case.js";
import { familyOf, generateCase } from "./generate/index.js";
import { type Judged, judge } from "./judge/index.js";
import type { Limits, Outcome } from "./outcome.js";
import { Gate, InFlight, Worker } from "./worker.js";

export interface RunOptions {
  readonly seed: number;
  readonly cases: number;
  readonly concurrency: number;
  readonly limits: Limits;
  readonly families: readonly Family[];
  /** Restarts after a crash or a wedged server before the run gives up. */
  readonly maxRestarts: number;
  /** A canary (normal calls on every protocol) every this many cases. */
  readonly canaryEvery: number;
  /** Cases that hung or crashed the server are sent again alone, at most this many per run. */
  readonly isolateMax: number;
  /** Cases run before the RSS baseline is taken. */
  readonly warmupCases: number;
  readonly serverEnv: Record<string, string>;
  readonly log: (line: string) => void;
  /** Called with every judged case (for --trace). */
  readonly trace?: (c: Case, outcome: Outcome, verdict: Judged) => void;
}

/** One thing that went wrong. */
export interface Failure {
  readonly kind: "case" | "crash" | "stall" | "canary" | "memory" | "shutdown";
  readonly caseId?: string;
  readonly family?: Family;
  readonly wire?: string;
  readonly label: string;
  readonly problem: string;
  /** What sending it again alone showed, for hangs and crashes. */
  note?: string;
}

export interface RunResult {
  readonly seed: number;
  readonly casesRun: number;
  readonly seconds: number;
  /** Time the cases were paused: crashes (restarts, isolation), stalls, canaries. */
  readonly supervisedSeconds: number;
  readonly byFamily: Map<string, number>;
  readonly byWire: Map<string, number>;
  readonly labels: Map<string, number>;
  /** Known deviations that are not the server's own (for example Node's HTTP/2 error codes), by kind. */
  readonly tolerated: Map<string, number>;
  readonly failures: Failure[];
  readonly restarts: number;
  readonly stoppedEarly: string | undefined;
  readonly rss:
    | { baselineMiB: number; finalMiB: number; peakMiB: number; sinceCase: number; samples: ReadonlyArray<readonly [number, number]> }
    | undefined;
  readonly serverWarnings: Array<Record<string, unknown>>;
}

/** After a crash, cases that finished this recently are suspects too (the client may see the connection drop first). */
const suspectWindowMs = 500;
/** How long a stalled server gets to answer /healthz again before it counts as wedged. */
const recoveryMs = 60_000;
/** Deadline for a case sent again alone: long enough to measure how long a freeze lasts. */
const isolationDeadlineMs = 30_000;

export async function runFuzz(options: RunOptions): Promise<RunResult> {
  const { log, limits } = options;
  const selected = new Set(options.families);
  const failures: Failure[] = [];
  const byFamily = new Map<string, number>();
  const byWire = new Map<string, number>();
  const labels = new Map<string, number>();
  const tolerated = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const gate = new Gate();
  const inFlight = new InFlight();
  const recent: Array<{ c: Case; outcome: Outcome; at: number }> = [];
  const started = performance.now();

  let server = await ServerProcess.start(options.serverEnv);
  let epoch = 0;
  let restarts = 0;
  let stoppedEarly: string | undefined;
  /** Set once the cases are done: the server's exit is then expected. */
  let finished = false;
  let nextIndex = 0;
  let casesStarted = 0;
  let casesRun = 0;
  let isolated = 0;
  let peakMiB = 0;
  /** (cases run, RSS MiB) at each canary: the memory's course over the run. */
  const rssSamples: Array<[number, number]> = [];
  await warmUp(server, log);
  // The RSS baseline is taken once the server has also served a first batch of fuzz cases: by then
  // every code path the fuzzer reaches has been compiled and its buffers sized.
  let baseline: number | undefined;
  let baselineSince = 0;
  let baselineAt = options.warmupCases;
  let workers = Array.from({ length: options.concurrency }, () => new Worker(server.port));

  // Supervisor jobs (crash, stall, canary) run one at a time, with the gate closed.
  let jobs: Promise<void> = Promise.resolve();
  let supervisedMs = 0;
  const supervise = (job: () => Promise<void>) => {
    gate.close();
    const timed = async () => {
      const jobStarted = performance.now();
      try {
        await job();
      } finally {
        supervisedMs += performance.now() - jobStarted;
      }
    };
    jobs = jobs.then(timed).catch((error: unknown) => {
      stoppedEarly = `supervisor failed: ${(error as Error).stack ?? String(error)}`;
    });
    void jobs.finally(() => gate.open());
  };

  const restart = async (why: string) => {
    for (const worker of workers) worker.close();
    if (restarts >= options.maxRestarts) {
      stoppedEarly = `stopped after ${restarts} restart(s): ${why}`;
      return false;
    }
    restarts++;
    log(`restarting the server (${restarts}/${options.maxRestarts}): ${why}`);
    await server.stop(1_000);
    server = await ServerProcess.start(options.serverEnv);
    epoch++;
    watchExit();
    await warmUp(server, log);
    baseline = undefined;
    baselineSince = casesRun;
    baselineAt = casesRun + options.warmupCases;
    workers = Array.from({ length: options.concurrency }, () => new Worker(server.port));
    return true;
  };

  /** Sends a case alone (nothing else in flight) with a long deadline; says what happened. */
  const isolate = async (c: Case): Promise<{ crashed: boolean; outcome: Outcome | undefined }> => {
    isolated++;
    const worker = new Worker(server.port);
    try {
      const outcome = await worker.send(c, { ...limits, deadlineMs: isolationDeadlineMs });
      await sleep(300);
      return { crashed: !server.alive, outcome };
    } finally {
      worker.close();
    }
  };

  const onCrash = async (crashedEpoch: number, crashedAt: number) => {
    if (crashedEpoch !== epoch) return;
    await inFlight.drained();
    const exit = await server.exited;
    const stderr = server.stderr();
    const tail = server.tail();
    // In flight when the process died (they finished after), or finished just before: the client may see the drop first.
    const suspects = recent
      .filter(({ at }) => at >= crashedAt - suspectWindowMs)
      .reverse()
      .sort((a, b) => suspicion(b.outcome) - suspicion(a.outcome));
    const failure: Failure = {
      kind: "crash",
      label: "server process exited",
      problem: `the server process exited (code ${exit.code}, signal ${exit.signal}) after case ${casesRun}: ${firstError(stderr)}`,
    };
    failures.push(failure);
    log(
      `CRASH: ${failure.problem}\n${tail
        .split("\n")
        .filter((line) => line.startsWith("stderr:"))
        .slice(0, 16)
        .map((line) => `    ${line}`)
        .join("\n")}`,
    );
    if (!(await restart("the server process exited"))) return;
    for (const { c } of suspects.slice(0, 12)) {
      if (isolated >= options.isolateMax) break;
      const result = await isolate(c);
      if (result.crashed) {
        failure.note = `case ${c.id} (${c.family}, ${c.wire}) crashes the server on its own: ${firstError(server.stderr())}`;
        Object.assign(failure, { caseId: c.id, family: c.family, wire: c.wire });
        log(`  ${failure.note}`);
        if (!(await restart(`case ${c.id} crashed it again`))) return;
        return;
      }
    }
    failure.note = `no single suspect crashed the server again when sent alone (suspects: ${suspects
      .slice(0, 12)
      .map(({ c }) => c.id)
      .join(", ")})`;
  };

  const watchExit = () => {
    const watched = epoch;
    void server.exited.then(() => {
      const crashedAt = performance.now();
      if (watched === epoch && stoppedEarly === undefined && !finished) supervise(() => onCrash(watched, crashedAt));
    });
  };
  watchExit();

  const pendingHangs: Failure[] = [];
  /** Kinds of request (see kindOf) that hung when sent alone, with the case that showed it: not isolated again. */
  const reproducedHangs = new Map<string, string>();
  const hungCases = new Map<string, Case>();
  let stallQueued = false;
  const onStall = async () => {
    stallQueued = false;
    await inFlight.drained();
    if (!server.alive) return; // the crash job deals with it
    const stallStarted = performance.now();
    let recovered = false;
    while (performance.now() - stallStarted < recoveryMs && server.alive) {
      if (await server.healthy(1_000)) {
        recovered = true;
        break;
      }
      await sleep(250);
    }
    const stallMs = performance.now() - stallStarted;
    const hangs = pendingHangs.splice(0);
    if (!server.alive) return;
    if (!recovered) {
      failures.push({
        kind: "stall",
        label: "server wedged",
        problem: `the server did not answer /healthz for ${recoveryMs} ms after a hang (cases ${hangs.map((h) => h.caseId).join(", ")})`,
      });
      server.child.kill("SIGKILL");
      return; // the crash job restarts it
    }
    if (stallMs > 2_000) log(`  the server answered /healthz again after ${(stallMs / 1000).toFixed(1)} s`);
    for (const hang of hangs) {
      const c = hang.caseId === undefined ? undefined : hungCases.get(hang.caseId);
      if (c === undefined) continue;
      const kind = kindOf(c);
      const known = reproducedHangs.get(kind);
      if (known !== undefined) {
        hang.note = `same kind of request as ${known}, which hung on its own`;
        continue;
      }
      if (isolated >= options.isolateMax) continue;
      const result = await isolate(c);
      if (result.crashed) {
        hang.note = "sent alone, it crashed the server";
        if (!(await restart(`case ${c.id} crashed it`))) return;
        continue;
      }
      const ms = result.outcome !== undefined && "ms" in result.outcome ? result.outcome.ms : Number.NaN;
      const verdict = result.outcome === undefined ? undefined : judge(c, result.outcome, isolationDeadlineMs);
      if (ms > limits.deadlineMs) reproducedHangs.set(kind, c.id);
      hang.note =
        ms > limits.deadlineMs
          ? `reproduced alone: answered after ${(ms / 1000).toFixed(1)} s (${verdict?.label ?? "?"})`
          : `not reproduced alone (${verdict?.label ?? "?"} in ${ms.toFixed(0)} ms): probably stuck behind another case`;
      log(`  ${hang.caseId}: ${hang.note}`);
      // A case that stalls the server stalls everything: wait until it is back.
      for (let waited = 0; waited < recoveryMs && !(await server.healthy(1_000)); waited += 1_000) await sleep(250);
    }
  };

  const onCanary = async () => {
    await inFlight.drained();
    if (!server.alive) return;
    const problems = await canary(server.baseUrl);
    for (const problem of problems) failures.push({ kind: "canary", label: "canary", problem: `after case ${casesRun}: ${problem}` });
    const rss = server.rssMiB();
    peakMiB = Math.max(peakMiB, rss);
    rssSamples.push([casesRun, Math.round(rss)]);
    log(
      `${casesRun}/${options.cases} cases, ${(casesRun / ((performance.now() - started) / 1000)).toFixed(0)}/s, ${failures.length} failures, server RSS ${rss.toFixed(0)} MiB`,
    );
  };

  const onBaseline = async () => {
    await inFlight.drained();
    if (!server.alive) return;
    baseline = await settledRss(server);
    log(`RSS after ${casesRun - baselineSince} warm-up cases: ${baseline.toFixed(0)} MiB (the baseline)`);
  };

  const nextCase = (): Case | undefined => {
    while (casesStarted < options.cases && stoppedEarly === undefined) {
      const index = nextIndex++;
      if (!selected.has(familyOf(options.seed, index))) continue;
      casesStarted++;
      return generateCase(options.seed, index);
    }
    return undefined;
  };

  const workerLoop = async (slot: number) => {
    for (;;) {
      await gate.pass();
      const c = nextCase();
      if (c === undefined) return;
      const worker = workers[slot] as Worker;
      const sentIn = epoch;
      inFlight.add(c);
      let outcome: Outcome;
      try {
        outcome = await worker.send(c, limits);
      } catch (error) {
        outcome = { kind: "closed", error: `client error: ${(error as Error).message}`, ms: 0 };
      }
      // A dropped connection may be the first sign of a crash: give the exit a moment to be noticed.
      if (suspicion(outcome) >= 2) await sleep(250);
      recent.push({ c, outcome, at: performance.now() });
      if (recent.length > 200) recent.splice(0, recent.length - 200);
      casesRun++;
      count(byFamily, c.family);
      count(byWire, `${c.wire}${c.request.kind === "http" ? ` HTTP/${c.request.http}` : ""}`);
      if (sentIn !== epoch || !server.alive) {
        count(labels, "during a crash (not judged)");
        inFlight.delete(c);
        continue;
      }
      const verdict = judge(c, outcome, limits.deadlineMs);
      count(labels, verdict.label);
      if (verdict.tolerated !== undefined) count(tolerated, verdict.tolerated);
      options.trace?.(c, outcome, verdict);
      const hung = outcome.kind === "hang" || ((outcome.kind === "raw-h1" || outcome.kind === "raw-h2") && outcome.timedOut);
      for (const problem of verdict.problems) {
        const failure: Failure = { kind: "case", caseId: c.id, family: c.family, wire: c.wire, label: verdict.label, problem };
        failures.push(failure);
        if (hung && problem === verdict.problems[0]) {
          pendingHangs.push(failure);
          hungCases.set(c.id, c);
        }
      }
      if (hung && !stallQueued) {
        stallQueued = true;
        log(`HANG: case ${c.id} (${c.family}, ${c.wire}): ${verdict.problems[0] ?? ""}`);
        supervise(onStall);
      }
      inFlight.delete(c);
      if (casesRun % options.canaryEvery === 0) supervise(onCanary);
      if (casesRun === baselineAt) supervise(onBaseline);
    }
  };

  await Promise.all(workers.map((_, slot) => workerLoop(slot)));
  await jobs;
  finished = true;

  // Afterwards: normal calls still work, memory is back near where it was, and shutdown is clean.
  let rss: RunResult["rss"];
  let serverWarnings: Array<Record<string, unknown>> = [];
  for (const worker of workers) worker.close();
  if (server.alive) {
    for (const problem of await canary(server.baseUrl))
      failures.push({ kind: "canary", label: "canary", problem: `after the run: ${problem}` });
    const finalMiB = await settledRss(server);
    peakMiB = Math.max(peakMiB, finalMiB);
    rssSamples.push([casesRun, Math.round(finalMiB)]);
    if (baseline !== undefined) rss = { baselineMiB: baseline, finalMiB, peakMiB, sinceCase: baselineSince, samples: rssSamples };
    serverWarnings = server.warnings();
    const exit = await server.stop();
    if (exit.code !== 0)
      failures.push({
        kind: "shutdown",
        label: "shutdown",
        problem: `SIGTERM after the run: exit code ${exit.code}, signal ${exit.signal}`,
      });
  } else {
    await server.stop(1_000);
  }
  return {
    seed: options.seed,
    casesRun,
    seconds: (performance.now() - started) / 1000,
    supervisedSeconds: supervisedMs / 1000,
    byFamily,
    byWire,
    labels,
    tolerated,
    failures,
    restarts,
    stoppedEarly,
    rss,
    serverWarnings,
  };
}

/** Warm-up: a few rounds of normal calls on every protocol, which must all succeed. */
async function warmUp(server: ServerProcess, log: (line: string) => void): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const problems = await canary(server.baseUrl);
    if (problems.length > 0) throw new Error(`the server fails normal calls before fuzzing: ${problems.join("; ")}`);
  }
  log(`server pid ${server.pid} on port ${server.port}, normal calls work, RSS ${server.rssMiB().toFixed(0)} MiB`);
}

/** RSS in MiB, the median of three samples 200 ms apart. */
/**
 * The server's RSS once it has been idle long enough to give back what it
 * does not keep: the lowest of samples over 5 s. Idle for two seconds, the
 * default server runs a full collection (heap-profile.ts, collectWhenIdle),
 * so the baseline and the final figure are both taken after one (or both
 * without one), and the comparison judges what the server keeps, not when
 * its collector last ran: measured mid-run, a baseline taken just after a
 * collection once made 20.4% "growth" out of garbage not yet collected.
 */
async function settledRss(server: ServerProcess): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    await sleep(500);
    samples.push(server.rssMiB());
  }
  return Math.min(...samples);
}

/** What a case is, numbers and quoted values aside: cases of one kind are usually one bug. */
function kindOf(c: Case): string {
  const normalize = (text: string) => text.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\d+/g, "N");
  return `${c.family} ${c.wire} ${c.mutations.map(normalize).join("; ")}`;
}

/** Which outcomes look like they saw the crash: a dropped connection most, an answer least. */
function suspicion(outcome: Outcome): number {
  switch (outcome.kind) {
    case "closed":
    case "hang":
      return 3;
    case "raw-h1":
    case "raw-h2":
      return outcome.closedByServer ? 2 : 1;
    case "reset":
      return 2;
    default:
      return 0;
  }
}

/** The line naming the error that ended the process (Node prints it last), or stderr's last line. */
export function firstError(stderr: string): string {
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  const fatal = lines.filter((line) => /^(\w*Error|\w+Exception)\b( \[\w+\])?:/.test(line)).at(-1);
  const code = lines
    .filter((line) => /^\s+code: '/.test(line))
    .at(-1)
    ?.trim()
    .replace(/,$/, "");
  return `${(fatal ?? lines.at(-1) ?? "(nothing on stderr)").trim().slice(0, 300)}${code !== undefined ? ` (${code})` : ""}`;
}
