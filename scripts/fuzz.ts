/**
 * The fuzzer: random and mutated requests over every protocol and transport
 * the server speaks, against a real server process it starts itself.
 *
 *   npm run fuzz                                  20,000 cases, a random seed (printed)
 *   npm run fuzz -- --cases 2000 --seed 42        a short, reproducible run
 *   npm run fuzz -- --only raw-h1,raw-h2          some families only
 *   npm run fuzz -- --replay 42:1337              one case alone: its exact request and answer
 *
 * Exits 1 on any failure: the process exited, a request got no answer in
 * time, an answer that is not valid for its protocol, a server error for a
 * client's request, normal calls failing afterwards, or memory growth.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Case, type Family, families } from "./fuzz/case.js";
import { caseToJson, describeCase, describeOutcome } from "./fuzz/describe.js";
import { generateCase, parseCaseId } from "./fuzz/generate/index.js";
import { judge } from "./fuzz/judge/index.js";
import type { Limits } from "./fuzz/outcome.js";
import { summarize } from "./fuzz/report.js";
import { runFuzz } from "./fuzz/runner.js";
import { Worker } from "./fuzz/worker.js";
import { ServerProcess } from "./lib/server-process.js";

const usage = `usage: npm run fuzz -- [options]
  --cases N            cases to run (default 20000)
  --seed S             run seed, a whole number (default: random, printed)
  --concurrency C      clients sending at once (default 4)
  --deadline-ms MS     every answer must come within this (default 5000)
  --only F,F           only these families: ${families.join(", ")}
  --skip F,F           all families but these
  --max-restarts N     server restarts after crashes before giving up (default 3)
  --rss-growth-pct P   largest RSS growth from the baseline (taken after the first half of the
                       cases, at most 10000) to the end of the run (default 20)
  --canary-every N     normal calls on every protocol every N cases (default 2000)
  --isolate-max N      hung or crashing cases sent again alone to confirm (default 10)
  --env NAME=VALUE     server environment (repeatable), e.g. --env READ_MAX_BYTES=65536
  --replay SEED:INDEX  print that case, send it alone to a fresh server, print the answer (comma-separate several)
  --save FILE          with --replay: write the cases as JSON (bodies in base64) for a regression test
  --trace FILE         write one line per case: id, family, protocol, answer, milliseconds, problems`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      cases: { type: "string", default: "20000" },
      seed: { type: "string" },
      concurrency: { type: "string", default: "4" },
      "deadline-ms": { type: "string", default: "5000" },
      only: { type: "string" },
      skip: { type: "string" },
      "max-restarts": { type: "string", default: "3" },
      "rss-growth-pct": { type: "string", default: "20" },
      "canary-every": { type: "string", default: "2000" },
      "isolate-max": { type: "string", default: "10" },
      env: { type: "string", multiple: true, default: [] },
      replay: { type: "string" },
      save: { type: "string" },
      trace: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
}
try {
  parsed = parse();
} catch (error) {
  fail((error as Error).message);
}
const { values } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}

function wholeNumber(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) fail(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function familyList(text: string | undefined): Family[] {
  if (text === undefined) return [];
  return text.split(",").map((name) => {
    if (!(families as readonly string[]).includes(name)) fail(`unknown family ${JSON.stringify(name)}`);
    return name as Family;
  });
}

// Every case comes from 127.0.0.1 and some are deliberate reset floods: the
// server's cool-down would then refuse the next 10 s of valid cases from the
// same address, as it should for a real attacker (test/e2e/abuse-limits.test.ts
// covers it). The flood's own connection is still closed and judged.
const serverEnv: Record<string, string> = { ABUSE_COOLDOWN_MS: "0" };
for (const pair of values.env) {
  const eq = pair.indexOf("=");
  if (eq <= 0) fail(`--env wants NAME=VALUE, got ${JSON.stringify(pair)}`);
  serverEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
}
const limits: Limits = { deadlineMs: wholeNumber("deadline-ms", values["deadline-ms"], 100), openEndedMs: 600, quietMs: 500 };

if (values.replay !== undefined) {
  process.exitCode = await replay(values.replay.split(","), values.save);
} else {
  const only = familyList(values.only);
  const skip = familyList(values.skip);
  const selected = (only.length > 0 ? only : families).filter((family) => !skip.includes(family));
  if (selected.length === 0) fail("--only and --skip leave no family to run");
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000_000) : wholeNumber("seed", values.seed, 0);
  const cases = wholeNumber("cases", values.cases, 1);
  const rssGrowthPct = wholeNumber("rss-growth-pct", values["rss-growth-pct"], 0);
  const traceFile = values.trace;
  if (traceFile !== undefined) writeFileSync(traceFile, "");
  console.log(
    `fuzz: seed ${seed}, ${cases} cases, families ${selected.join(", ")}, concurrency ${values.concurrency}, deadline ${limits.deadlineMs} ms`,
  );
  console.log(
    `(the same run again: npm run fuzz -- --seed ${seed} --cases ${cases}${values.only ? ` --only ${values.only}` : ""}${values.skip ? ` --skip ${values.skip}` : ""})`,
  );
  const result = await runFuzz({
    seed,
    cases,
    concurrency: wholeNumber("concurrency", values.concurrency, 1),
    limits,
    families: selected,
    maxRestarts: wholeNumber("max-restarts", values["max-restarts"], 0),
    canaryEvery: wholeNumber("canary-every", values["canary-every"], 1),
    isolateMax: wholeNumber("isolate-max", values["isolate-max"], 0),
    // The embedded database keeps growing its caches over the first few thousand calls.
    // Measured: RSS keeps rising through the first ~6,000 cases while the V8
    // heap, compiled code and the database's caches settle (with PostgreSQL it
    // is flat after that); a baseline taken earlier judges the warm-up, not leaks.
    warmupCases: Math.min(10_000, Math.ceil(cases / 2)),
    serverEnv,
    log: (line) => console.log(line),
    trace:
      traceFile === undefined
        ? undefined
        : (c, outcome, verdict) => {
            const ms = "ms" in outcome ? outcome.ms.toFixed(0) : "-";
            appendFileSync(
              traceFile,
              `${c.id}\t${c.family}\t${c.wire}\t${verdict.label}\t${ms}\t${verdict.problems.join(" | ")}\t${c.mutations.join("; ").slice(0, 300)}\n`,
            );
          },
  });
  if (result.rss !== undefined) {
    const growthPct = ((result.rss.finalMiB - result.rss.baselineMiB) / result.rss.baselineMiB) * 100;
    if (growthPct > rssGrowthPct) {
      result.failures.push({
        kind: "memory",
        label: "memory",
        problem: `server RSS grew ${growthPct.toFixed(1)}% (${result.rss.baselineMiB.toFixed(0)} → ${result.rss.finalMiB.toFixed(0)} MiB), more than ${rssGrowthPct}%`,
      });
    }
  }
  if (result.stoppedEarly !== undefined) result.failures.push({ kind: "crash", label: "stopped early", problem: result.stoppedEarly });
  console.log(summarize(result, "npm run fuzz --"));
  process.exitCode = result.failures.length === 0 ? 0 : 1;
}

/** Each case alone against a fresh server: the request, the answer, the verdict, and whether the server survived. */
async function replay(ids: string[], saveFile: string | undefined): Promise<number> {
  const cases: Case[] = [];
  for (const id of ids) {
    let parsed: { seed: number; index: number };
    try {
      parsed = parseCaseId(id);
    } catch (error) {
      fail((error as Error).message);
    }
    cases.push(generateCase(parsed.seed, parsed.index));
  }
  if (saveFile !== undefined) {
    writeFileSync(saveFile, `${JSON.stringify(cases.map(caseToJson), null, 2)}\n`);
    console.log(`wrote ${cases.length} case(s) to ${saveFile}`);
  }
  let server = await ServerProcess.start(serverEnv);
  let failed = 0;
  try {
    for (const c of cases) {
      console.log(`\n${describeCase(c)}`);
      const worker = new Worker(server.port);
      const outcome = await worker.send(c, limits);
      worker.close();
      console.log(describeOutcome(outcome));
      const verdict = judge(c, outcome, limits.deadlineMs);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const problems = [...verdict.problems];
      if (!server.alive) {
        const exit = await server.exited;
        problems.push(
          `the server process exited (code ${exit.code}, signal ${exit.signal}); stderr:\n${server.stderr().trim().slice(-3_000)}`,
        );
        await server.stop(1_000);
        server = await ServerProcess.start(serverEnv);
      } else if (!(await server.healthy(limits.deadlineMs))) {
        problems.push(`the server did not answer /healthz within ${limits.deadlineMs} ms afterwards`);
      }
      console.log(`verdict: ${verdict.label}${problems.length === 0 ? ", ok" : `\n${problems.map((p) => `  FAIL ${p}`).join("\n")}`}`);
      if (problems.length > 0) failed++;
    }
  } finally {
    await server.stop(5_000);
  }
  console.log(`\n${cases.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
