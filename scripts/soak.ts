/**
 * Soak test: mixed load over every protocol (gRPC, gRPC-Web and Connect,
 * HTTP/1.1 and HTTP/2, Connect GET) on every service, unary and streaming,
 * with connect-node's clients, against a real server process it starts
 * itself. Samples the server's RSS and the error count as it goes, then
 * judges: no unexpected answer at all, and memory flat (the last third's
 * highest RSS not more than --rss-growth-pct above the first third's, after
 * the warm-up). Exits 1 when either fails.
 *
 *   npm run soak -- --minutes 2
 */

import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Rng } from "./fuzz/rng.js";
import { canary, everyProtocol } from "./lib/canary.js";
import { ServerProcess } from "./lib/server-process.js";
import { type Scenario, scenarios, type Target } from "./soak/scenarios.js";

const usage = `usage: npm run soak -- --minutes N [options]
  --minutes N          how long to run (default 2; fractions allowed)
  --seed S             seed for the mix of calls (default: random, printed)
  --concurrency C      call loops running at once (default 8)
  --sample-seconds S   how often RSS and counts are sampled (default 10, less for runs under 2 minutes)
  --warmup-seconds S   samples before this are not judged (default: a fifth of the run, at most 60)
  --rss-growth-pct P   the last third's highest RSS may be at most this much above the first third's (default 10)
  --env NAME=VALUE     server environment (repeatable)`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

let values: ReturnType<typeof parse>["values"];
function parse() {
  return parseArgs({
    options: {
      minutes: { type: "string", default: "2" },
      seed: { type: "string" },
      concurrency: { type: "string", default: "8" },
      "sample-seconds": { type: "string" },
      "warmup-seconds": { type: "string" },
      "rss-growth-pct": { type: "string", default: "10" },
      env: { type: "string", multiple: true, default: [] },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
}
try {
  values = parse().values;
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}

function positive(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) fail(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

const durationMs = positive("minutes", values.minutes) * 60_000;
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000_000) : positive("seed", values.seed);
const concurrency = Math.round(positive("concurrency", values.concurrency));
const sampleMs =
  (values["sample-seconds"] === undefined ? Math.min(10, durationMs / 12_000) : positive("sample-seconds", values["sample-seconds"])) *
  1000;
const warmupMs =
  (values["warmup-seconds"] === undefined ? Math.min(60, durationMs / 5_000) : positive("warmup-seconds", values["warmup-seconds"])) * 1000;
const growthPct = positive("rss-growth-pct", values["rss-growth-pct"]);
const serverEnv: Record<string, string> = {};
for (const pair of values.env) {
  const eq = pair.indexOf("=");
  if (eq <= 0) fail(`--env wants NAME=VALUE, got ${JSON.stringify(pair)}`);
  serverEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
}

interface Sample {
  readonly seconds: number;
  readonly rssMiB: number;
  readonly calls: number;
  readonly errors: number;
}

console.log(
  `soak: seed ${seed}, ${(durationMs / 60_000).toFixed(1)} min, ${concurrency} loops, samples every ${(sampleMs / 1000).toFixed(0)} s, warm-up ${(warmupMs / 1000).toFixed(0)} s`,
);
const server = await ServerProcess.start(serverEnv);
const { transports, close } = everyProtocol(server.baseUrl, 30_000);
const targets: Target[] = transports.map(({ name, transport }) => ({
  name,
  transport,
  bidi: name.includes("HTTP/2") || name.includes("h2c"),
}));
console.log(
  `server pid ${server.pid} on port ${server.port}, RSS ${server.rssMiB().toFixed(0)} MiB; protocols: ${targets.map((t) => t.name).join(", ")}`,
);

const calls = new Map<string, number>();
const errors: string[] = [];
let callCount = 0;
let uniqueCount = 0;
const unique = () => `${seed}-${++uniqueCount}`;
const started = performance.now();
const until = started + durationMs;

async function loop(index: number): Promise<void> {
  const rng = new Rng(seed, index);
  while (performance.now() < until && server.alive) {
    const target = rng.pick(targets);
    const [name, scenario] = rng.weighted<readonly [string, Scenario]>(scenarios.map(([n, s, w]) => [[n, s] as const, w]));
    const key = `${name} over ${target.name}`;
    try {
      const made = await scenario(target, rng, unique);
      callCount += made;
      calls.set(key, (calls.get(key) ?? 0) + made);
    } catch (error) {
      callCount++;
      errors.push(`${((performance.now() - started) / 1000).toFixed(1)} s, ${key}: ${(error as Error).message}`);
      if (errors.length <= 20) console.log(`UNEXPECTED ${errors.at(-1)}`);
    }
  }
}

const samples: Sample[] = [];
const sampler = (async () => {
  while (performance.now() < until && server.alive) {
    await sleep(Math.min(sampleMs, Math.max(0, until - performance.now())));
    if (!server.alive) break;
    const sample = { seconds: (performance.now() - started) / 1000, rssMiB: server.rssMiB(), calls: callCount, errors: errors.length };
    samples.push(sample);
    const previous = samples.at(-2);
    const rate =
      previous === undefined ? sample.calls / sample.seconds : (sample.calls - previous.calls) / (sample.seconds - previous.seconds);
    console.log(
      `${sample.seconds.toFixed(0).padStart(5)} s  RSS ${sample.rssMiB.toFixed(0).padStart(5)} MiB  calls ${String(sample.calls).padStart(7)} (${rate.toFixed(0)}/s)  errors ${sample.errors}`,
    );
  }
})();

await Promise.all([...Array.from({ length: concurrency }, (_, i) => loop(i)), sampler]);
close();

// The verdict.
const problems: string[] = [];
if (!server.alive) {
  const exit = await server.exited;
  problems.push(`the server process exited (code ${exit.code}, signal ${exit.signal}):\n${server.tail()}`);
} else {
  for (const problem of await canary(server.baseUrl)) problems.push(`normal call after the soak: ${problem}`);
}
if (errors.length > 0) problems.push(`${errors.length} unexpected answers, e.g.:\n  ${errors.slice(0, 10).join("\n  ")}`);
for (const target of targets) {
  if (![...calls.keys()].some((key) => key.endsWith(`over ${target.name}`))) problems.push(`no successful call over ${target.name}`);
}
const judged = samples.filter((sample) => sample.seconds * 1000 >= warmupMs);
if (judged.length < 3) {
  problems.push(`only ${judged.length} samples after the warm-up: run longer or sample more often to judge memory`);
} else {
  const third = Math.floor(judged.length / 3);
  const firstMax = Math.max(...judged.slice(0, third).map((s) => s.rssMiB));
  const lastMax = Math.max(...judged.slice(judged.length - third).map((s) => s.rssMiB));
  const growth = ((lastMax - firstMax) / firstMax) * 100;
  console.log(
    `RSS after the warm-up: first third's highest ${firstMax.toFixed(0)} MiB, last third's ${lastMax.toFixed(0)} MiB (${growth >= 0 ? "+" : ""}${growth.toFixed(1)}%, limit +${growthPct}%)`,
  );
  if (growth > growthPct) problems.push(`RSS grew ${growth.toFixed(1)}% from the first third of the run to the last (limit ${growthPct}%)`);
}
console.log("calls by scenario and protocol:");
for (const [key, count] of [...calls].sort()) console.log(`  ${String(count).padStart(7)}  ${key}`);
const warnings = server.warnings();
if (warnings.length > 0)
  console.log(`server log lines at warn or above: ${warnings.length}, e.g. ${JSON.stringify(warnings[0]).slice(0, 300)}`);
const seconds = (performance.now() - started) / 1000;
if (server.alive) {
  const exit = await server.stop();
  if (exit.code !== 0) problems.push(`SIGTERM after the soak: exit code ${exit.code}, signal ${exit.signal}`);
} else {
  await server.stop(1_000);
}
console.log(`soak: ${callCount} calls in ${seconds.toFixed(0)} s (${(callCount / seconds).toFixed(0)}/s), ${errors.length} unexpected`);
if (problems.length > 0) {
  console.log(`SOAK FAILED:\n- ${problems.join("\n- ")}`);
  process.exitCode = 1;
} else {
  console.log("soak passed: no unexpected answer, memory flat");
}
