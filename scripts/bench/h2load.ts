import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { percentile } from "./stats.js";

/** What h2load prints at the end of a run (nghttp2 1.4x to 1.6x layout). */
export interface H2loadSummary {
  /** The measured time: -D's duration, or the whole run with -n. */
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly started: number;
  readonly done: number;
  /** Answered with a 2xx status. */
  readonly succeeded: number;
  /** Not 2xx, or the stream failed (h2load counts "errored" among these too). */
  readonly failed: number;
  readonly errored: number;
  readonly timedOut: number;
  /** Response body bytes (HTTP/2 DATA payloads, HTTP/1.1 bodies after chunked decoding). */
  readonly dataBytes: number;
  /** h2load's own mean time per request, in microseconds. */
  readonly meanRequestUs: number;
}

const units: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

function seconds(amount: string, unit: string): number {
  const factor = units[unit];
  if (factor === undefined) throw new Error(`h2load printed an unknown time unit "${unit}"`);
  return Number(amount) * factor;
}

/** Reads h2load's summary; throws (quoting the output) when it is not there, e.g. when h2load could not connect. */
export function parseH2loadOutput(text: string): H2loadSummary {
  const finished = /finished in ([\d.]+)(us|ms|s|m|h), ([\d.]+) req\/s/.exec(text);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
    text,
  );
  // 1.52 prints "18.07KB (18500) data"; older versions "18500 bytes data".
  const data = /\((\d+)\) data/.exec(text) ?? /(\d+) bytes data/.exec(text);
  const request = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(text);
  if (finished === null || requests === null || data === null) {
    throw new Error(`could not read h2load's summary from:\n${text.slice(-2_000)}`);
  }
  const count = (index: number) => Number(requests[index]);
  return {
    seconds: seconds(finished[1] ?? "", finished[2] ?? ""),
    requestsPerSecond: Number(finished[3]),
    started: count(2),
    done: count(3),
    succeeded: count(4),
    failed: count(5),
    errored: count(6),
    timedOut: count(7),
    dataBytes: Number(data[1]),
    meanRequestUs: request === null ? Number.NaN : seconds(request[5] ?? "", request[6] ?? "") * 1e6,
  };
}

export interface Latencies {
  /** Requests in the log, failed ones included. */
  readonly count: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

/**
 * Percentiles from h2load's --log-file, whose tab-separated rows are: start
 * time (µs since the epoch), HTTP status (-1 for a failed stream), µs until
 * the end of the response. h2load itself prints only min/max/mean/sd.
 * Failed streams are left out: their time says nothing about an answer.
 */
export function latenciesFromLog(text: string): Latencies {
  const times: number[] = [];
  let count = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    count++;
    const [, status, micros] = line.split("\t");
    if (status === undefined || micros === undefined || status === "-1") continue;
    times.push(Number(micros));
  }
  const sorted = Float64Array.from(times).sort();
  return { count, p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99) };
}

export function latenciesFromLogFile(path: string): Latencies {
  return latenciesFromLog(readFileSync(path, "utf8"));
}

export interface H2loadLoad {
  readonly url: string;
  readonly http1: boolean;
  readonly connections: number;
  /** Concurrent streams per connection (HTTP/2); HTTP/1.1 with a body never pipelines. */
  readonly streams: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A file whose bytes are POSTed as every request's body; none means GET. */
  readonly bodyFile: string | undefined;
  /**
   * Requests per second per connection (--rps), the connections started
   * evenly apart within one interval (see h2loadArgs); undefined sends as
   * fast as answers come.
   */
  readonly ratePerConnection?: number;
}

export type H2loadAmount = { readonly durationMs: number } | { readonly requests: number };

/**
 * The command line for one run of `load`, for a time (-D) or a number of
 * requests (-n).
 *
 * A paced load starts its connections one by one, an interval ÷ connections
 * apart (-r 1 --rate-period), so that 8 connections at 125/s send one call
 * every millisecond: h2load starts every --rps timer in the same instant
 * otherwise, and the calls came 8 at a time every 8 ms. h2load allows no -D
 * with -r, so a paced run's time becomes its number of calls; its period is
 * whole milliseconds.
 */
export function h2loadArgs(load: H2loadLoad, amount: H2loadAmount, logFile?: string): string[] {
  const args = ["-c", String(load.connections), "-m", String(load.streams), "-t", "1"];
  const rate = load.ratePerConnection;
  const counted =
    rate !== undefined && "durationMs" in amount ? { requests: Math.round((rate * load.connections * amount.durationMs) / 1000) } : amount;
  if ("durationMs" in counted) args.push("-D", `${Math.max(1, Math.round(counted.durationMs))}ms`);
  // -n counts across all clients: at least one request per client, or some never start.
  else args.push("-n", String(Math.max(counted.requests, load.connections)));
  if (load.http1) args.push("--h1");
  if (rate !== undefined) {
    const apartMs = Math.max(1, Math.round(1000 / rate / load.connections));
    args.push("--rps", String(rate), "-r", "1", "--rate-period", `${apartMs}ms`);
  }
  if (load.bodyFile !== undefined) args.push("-d", load.bodyFile);
  for (const [name, value] of Object.entries(load.headers)) args.push("-H", `${name}: ${value}`);
  if (logFile !== undefined) args.push("--log-file", logFile);
  args.push(load.url);
  return args;
}

/**
 * Runs h2load (under `launcher`, e.g. taskset) and reads its summary; rejects
 * when it fails to run or prints none. `onProgress` hears h2load's "progress:
 * N% done" lines (printed for -n runs) as they come.
 */
export function runH2load(
  args: readonly string[],
  launcher: readonly string[],
  onProgress?: (percent: number) => void,
): Promise<H2loadSummary> {
  const [command = "h2load", ...rest] = [...launcher, "h2load", ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, rest, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      out.push(chunk);
      if (onProgress === undefined) return;
      for (const match of chunk.toString("utf8").matchAll(/progress: (\d+)% done/g)) onProgress(Number(match[1]));
    });
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.once("error", reject);
    child.once("close", (code) => {
      const text = Buffer.concat(out).toString("utf8");
      try {
        resolve(parseH2loadOutput(text));
      } catch (error) {
        reject(
          new Error(`h2load ${args.join(" ")} exited with ${code}: ${(error as Error).message}\n${Buffer.concat(err).toString("utf8")}`),
        );
      }
    });
  });
}

/** "nghttp2/1.52.0", or undefined when h2load is not installed. */
export function h2loadVersion(): string | undefined {
  const run = spawnSync("h2load", ["--version"], { encoding: "utf8" });
  if (run.error !== undefined || run.status !== 0) return undefined;
  return /nghttp2\/[\d.]+/.exec(run.stdout)?.[0] ?? run.stdout.trim();
}
