import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { h2loadArgs, latenciesFromLog, parseH2loadOutput } from "../../scripts/bench/h2load.js";
import { loopDelayP99MsFromExposition } from "../../scripts/bench/loop-delay.js";
import { failures, type Run } from "../../scripts/bench/measure.js";
import { parseOptions, UsageError } from "../../scripts/bench/options.js";
import { grpcSquareRootReply, grpcWebReply, splitFrames } from "../../scripts/bench/payloads.js";
import { benchDatabaseUrl, defaultBenchDatabaseUrl, redacted } from "../../scripts/bench/postgres.js";
import {
  busyPct,
  commandFromStat,
  coreTimesFromStat,
  cpuTicksFromStat,
  descendants,
  memoryFromStatus,
  parentFromStat,
  parseCpuList,
  sumOver,
} from "../../scripts/bench/proc.js";
import { shareOf } from "../../scripts/bench/profile-share.js";
import {
  type CellRuns,
  checkTargets,
  costOf,
  observabilityTable,
  observabilityTargets,
  runNotes,
  summarize,
  table,
  workersLine,
  workersSummary,
} from "../../scripts/bench/report.js";
import { FailureCounter } from "../../scripts/bench/servers.js";
import { servingAt, startupTable, startupTargets, summarizeStartup } from "../../scripts/bench/startup.js";
import { median, percentile } from "../../scripts/bench/stats.js";

// The benchmark's arithmetic and parsers, on canned input: what the numbers
// in its table mean must not depend on a machine fast enough to run it.

/** h2load 1.52's summary of a 1 s run, as printed (progress lines trimmed). */
const h2loadOutput = `starting benchmark...
spawning thread #0: 1 total client(s). Timing-based test with 0s of warm-up time and 1s of main duration for measurements.
Application protocol: h2c

finished in 1.00s, 1850.00 req/s, 126.67KB/s
requests: 1850 total, 1851 started, 1850 done, 1850 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 1850 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 126.67KB (129705) total, 57.59KB (58968) headers (space savings 74.50%), 18.07KB (18500) data
                     min         max         mean         sd        +/- sd
time for request:      260us     36.13ms       532us      1.50ms    97.03%
time for connect:       53us        53us        53us         0us   100.00%
time to 1st byte:     6.63ms      6.63ms      6.63ms         0us   100.00%
req/s           :    1849.49     1849.49     1849.49        0.00   100.00%
`;

describe("h2load output", () => {
  test("the summary is read with exact byte counts and times in seconds", () => {
    assert.deepEqual(parseH2loadOutput(h2loadOutput), {
      seconds: 1,
      requestsPerSecond: 1850,
      started: 1851,
      done: 1850,
      succeeded: 1850,
      failed: 0,
      errored: 0,
      timedOut: 0,
      dataBytes: 18500,
      meanRequestUs: 532,
    });
  });

  test("older versions' byte counts and a run measured in milliseconds are read too", () => {
    const older = h2loadOutput
      .replace("finished in 1.00s", "finished in 701.54ms")
      .replace(/traffic: .*/, "traffic: 129705 bytes total, 58968 bytes headers (space savings 74.50%), 18500 bytes data");
    const summary = parseH2loadOutput(older);
    assert.ok(Math.abs(summary.seconds - 0.70154) < 1e-9, String(summary.seconds));
    assert.equal(summary.dataBytes, 18500);
  });

  test("output without a summary (h2load could not connect) is an error quoting it", () => {
    assert.throws(() => parseH2loadOutput("connect error: Connection refused\nNo protocol negotiated. Aborted."), /Connection refused/);
  });

  test("percentiles come from the per-request log, failed streams left out", () => {
    const rows = Array.from({ length: 100 }, (_, i) => `1796046405074678\t200\t${(i + 1) * 10}`);
    rows.push("1796046405074679\t-1\t999999");
    const latencies = latenciesFromLog(`${rows.join("\n")}\n`);
    assert.deepEqual(latencies, { count: 101, p50Us: 500, p99Us: 990 });
  });

  test("a timed run, a counted run, HTTP/1.1 and headers become the right flags", () => {
    const load = {
      url: "http://127.0.0.1:1/Calculator/SquareRoot",
      http1: false,
      connections: 8,
      streams: 16,
      headers: { "content-type": "application/grpc", te: "trailers" },
      bodyFile: "work/body.bin",
    };
    assert.deepEqual(h2loadArgs(load, { durationMs: 1500 }, "work/h2load.log"), [
      ...["-c", "8", "-m", "16", "-t", "1", "-D", "1500ms", "-d", "work/body.bin"],
      ...["-H", "content-type: application/grpc", "-H", "te: trailers", "--log-file", "work/h2load.log", load.url],
    ]);
    const get = { ...load, http1: true, connections: 8, streams: 1, headers: {}, bodyFile: undefined };
    assert.deepEqual(h2loadArgs(get, { requests: 4 }), ["-c", "8", "-m", "1", "-t", "1", "-n", "8", "--h1", load.url]);
    const paced = { ...load, headers: {}, bodyFile: undefined, ratePerConnection: 125 };
    // 1,000 calls in a second: 8 connections at 125 calls/s, started 1 ms apart.
    assert.deepEqual(h2loadArgs(paced, { durationMs: 1000 }), [
      ...["-c", "8", "-m", "16", "-t", "1", "-n", "1000"],
      ...["--rps", "125", "-r", "1", "--rate-period", "1ms", load.url],
    ]);
  });
});

describe("statistics", () => {
  test("median of odd and even counts, NaN ignored, NaN for none", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, Number.NaN, 1, 3]), 3);
    assert.ok(Number.isNaN(median([])));
  });

  test("nearest-rank percentiles are values that occurred", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(sorted, 50), 5);
    assert.equal(percentile(sorted, 99), 10);
    assert.equal(percentile(sorted, 90), 9);
    assert.equal(percentile(sorted, 0), 1);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

describe("/proc", () => {
  test("CPU ticks are fields 14 and 15, counted after the command name whatever it holds", () => {
    const stat = "4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 9000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 20000";
    assert.equal(cpuTicksFromStat(stat), 1234 + 567);
  });

  test("the command name is read between the first ( and the last )", () => {
    assert.equal(commandFromStat("4242 (postgres) S 1 4242 4242 0 -1 4194304 9000 0 0 0 1234 567"), "postgres");
    assert.equal(commandFromStat("4243 (node (worker) x) S 1"), "node (worker) x");
  });

  test("VmRSS and VmHWM in MiB", () => {
    const status = "Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n";
    assert.deepEqual(memoryFromStatus(status), { rssMiB: 100, peakMiB: 200 });
  });

  test("per-core busy time from /proc/stat, idle and iowait not busy", () => {
    const before = coreTimesFromStat("cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 5 0 5 40 0 0 0 0 0 0\ncpu1 5 0 5 40 0 0 0 0 0 0\nintr 1\n");
    const after = coreTimesFromStat("cpu  90 0 30 80 0 0 0 0 0 0\ncpu0 70 0 20 60 0 0 0 0 0 0\ncpu1 15 0 15 100 20 0 0 0 0 0\n");
    assert.equal(busyPct(before, after, 0), 80);
    assert.equal(busyPct(before, after, 1), 20);
    assert.ok(Number.isNaN(busyPct(before, after, 7)));
  });

  test("CPU lists with ranges", () => {
    assert.deepEqual(parseCpuList("0-1"), [0, 1]);
    assert.deepEqual(parseCpuList("0,2-4,7\n"), [0, 2, 3, 4, 7]);
    assert.deepEqual(parseCpuList("3"), [3]);
  });
});

describe("failed calls", () => {
  const summary = parseH2loadOutput(h2loadOutput);

  test("a gRPC error is a 200 without the message: the missing bytes count it", () => {
    assert.equal(failures(summary, { bytesPerCall: 10, messagesPerCall: 1 }, 0), 0);
    assert.equal(failures({ ...summary, dataBytes: 18500 - 30 }, { bytesPerCall: 10, messagesPerCall: 1 }, 0), 3);
  });

  test("h2load's own failures, and the server's log, count when they see more", () => {
    assert.equal(failures({ ...summary, failed: 5, timedOut: 1 }, { bytesPerCall: 10, messagesPerCall: 1 }, 2), 6);
    assert.equal(failures(summary, { bytesPerCall: undefined, messagesPerCall: 1 }, 4), 4);
  });

  test("the call log's failed calls are counted once, canceled ones not at all, a half-written line later", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-log-"));
    try {
      const log = join(dir, "server.log");
      const line = (msg: string, code: string) => `${JSON.stringify({ level: 30, code, msg })}\n`;
      writeFileSync(log, line("call ok", "ok") + line("call failed: bad", "invalid_argument") + line("call failed: gone", "canceled"));
      const counter = new FailureCounter(log);
      assert.equal(counter.countNew(), 1);
      assert.equal(counter.countNew(), 0, "nothing new");
      const next = line("call failed: broke", "internal");
      await appendFile(log, next.slice(0, 20));
      assert.equal(counter.countNew(), 0, "the line is not complete yet");
      await appendFile(log, next.slice(20));
      assert.equal(counter.countNew(), 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("canned replies are well-formed frames", () => {
  assert.equal(splitFrames(grpcSquareRootReply).messages.length, 1);
  const web = splitFrames(grpcWebReply);
  assert.equal(web.messages.length, 1);
  assert.equal(web.trailers, "grpc-status: 0\r\n");
  assert.throws(() => splitFrames(grpcSquareRootReply.subarray(0, 7)), /runs past/);
});

test("the loop delay is the p99 gauge of /metrics less the 10 ms of the timer's interval; absent or empty is unknown", () => {
  const exposition = (p99: string) =>
    "# HELP nodejs_eventloop_lag_p90_seconds x\nnodejs_eventloop_lag_p90_seconds 0.0105\n" +
    `# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.\n# TYPE nodejs_eventloop_lag_p99_seconds gauge\nnodejs_eventloop_lag_p99_seconds ${p99}\n`;
  assert.ok(Math.abs((loopDelayP99MsFromExposition(exposition("0.0135")) ?? Number.NaN) - 3.5) < 1e-9);
  assert.equal(loopDelayP99MsFromExposition(exposition("0.009")), 0, "a tick early is no delay");
  assert.equal(loopDelayP99MsFromExposition(exposition("0")), undefined, "no tick since the last scrape");
  assert.equal(loopDelayP99MsFromExposition("process_cpu_seconds_total 1\n"), undefined);
});

describe("report", () => {
  const run = (round: number, rate: number, cpu: number, p50 = 1, p99 = 2): Run => ({
    round,
    seconds: 1,
    calls: rate,
    units: rate,
    rate,
    p50Ms: p50,
    p99Ms: p99,
    cpuUsPerUnit: cpu,
    rssMiB: 100,
    failed: 0,
  });
  const cell = (workload: string, server: CellRuns["server"], runs: Run[]): CellRuns => ({
    workload,
    title: workload,
    unit: "calls",
    server,
    runs,
  });
  const cells = summarize([
    cell("grpc-unary-8x16", "this", [run(1, 300, 10), run(2, 100, 30), run(3, 200, 20, 1, 4)]),
    cell("grpc-unary-8x16", "grpc-js", [run(1, 100, 25), run(2, 100, 25), run(3, 100, 25)]),
    cell("grpc-unary-8x16", "raw-h2", [run(1, 400, 5), run(2, 400, 5), run(3, 400, 5)]),
  ]);

  test("each cell is the median of its rounds, with ratios to grpc-js and to the raw limit", () => {
    const ours = cells[0];
    assert.equal(ours?.rate, 200);
    assert.equal(ours?.cpuUsPerUnit, 20);
    assert.equal(ours?.p99Ms, 2);
    assert.equal(ours?.vsGrpcJs, 2);
    assert.equal(ours?.vsRaw, 0.5);
    assert.equal(cells[1]?.vsGrpcJs, 1);
  });

  test("the table is Markdown with a row per server, the workload named once", () => {
    const lines = table(cells).split("\n");
    assert.equal(lines.length, 2 + 3);
    assert.match(
      lines[2] ?? "",
      /^\| grpc-unary-8x16 \| this server \| 200 \| 1\.00 \| 2\.00 \| 20\.0 \| – \| – \| 2\.00× \| 0\.50× \| 100 \| 0 \|$/,
    );
    assert.match(lines[3] ?? "", /^\| {2}\| @grpc\/grpc-js \|/);
  });

  test("PostgreSQL's CPU and the loop delay are medians of the runs that have them, shown where measured", () => {
    const withExtras = (round: number, postgres: number, delay: number | undefined): Run => ({
      ...run(round, 100, 50),
      postgresCpuUsPerUnit: postgres,
      ...(delay === undefined ? {} : { loopDelayP99Ms: delay }),
    });
    const [onPostgres] = summarize([
      cell("db-get-movie", "this-postgres", [withExtras(1, 30, 1.5), withExtras(2, 40, undefined), withExtras(3, 20, 0.5)]),
    ]);
    assert.equal(onPostgres?.postgresCpuUsPerUnit, 30);
    assert.equal(onPostgres?.loopDelayP99Ms, 1, "the median of the two runs that read it");
    assert.match(table(onPostgres === undefined ? [] : [onPostgres]).split("\n")[2] ?? "", /\| 50\.0 \| 30\.0 \| 1\.0 \|/);
    const [embedded] = summarize([cell("db-get-movie", "this", [run(1, 100, 50)])]);
    assert.equal(embedded?.postgresCpuUsPerUnit, undefined);
    assert.equal(embedded?.loopDelayP99Ms, undefined);
  });

  test("targets pass, miss, or are skipped when not measured", () => {
    const checks = checkTargets({
      cells,
      memory: undefined,
      idleRssMiB: undefined,
      validation: { busySamples: 1000, samplesInside: 51, share: 0.051, cpuUsPerCall: 40 },
      stream: { streamed: 7, catalogue: 10 },
    });
    const verdict = (start: string) => checks.find((check) => check.target.startsWith(start))?.ok;
    assert.equal(verdict("gRPC unary 8×16: ≥ 1.0× grpc-js"), true);
    assert.equal(verdict("gRPC unary 8×16: p99 ≤ 4× p50"), true);
    assert.equal(verdict("Connect GET HTTP/1.1 8 conn"), undefined);
    assert.equal(verdict("CPU per unary call ≤ grpc-js's (grpc-unary-8x16)"), true);
    assert.equal(verdict("gRPC unary 1 conn"), undefined);
    assert.equal(verdict("Memory"), undefined);
    assert.equal(verdict("ListMovies streams the whole catalogue"), false, "a capped stream is a miss");
    assert.equal(verdict("No failed calls"), true);
    assert.equal(verdict("GetMovie 8×16 on the embedded database"), undefined);
    assert.deepEqual(
      checks.find((check) => check.target.startsWith("Request validation")),
      {
        target: "Request validation (protovalidate): ≤ 5% of the server's CPU on gRPC unary 8×16 (sampled by --cpu-prof)",
        ok: false,
        detail: "5.1% (51 of 1000 busy samples), about 2.0 of 40.0 µs per call",
      },
    );
  });

  test("a profile's share inside a function counts its callees and leaves idle samples out", () => {
    const frame = (id: number, functionName: string, children: number[] = []) => ({ id, callFrame: { functionName }, children });
    const profile = {
      nodes: [
        frame(1, "(root)", [2, 3, 6]),
        frame(2, "(idle)"),
        frame(3, "serve", [4]),
        frame(4, "checkRequest", [5]),
        frame(5, "validate"),
        frame(6, "(garbage collector)"),
      ],
      samples: [2, 2, 2, 3, 4, 5, 5, 6],
    };
    assert.deepEqual(shareOf(profile, "checkRequest"), { busySamples: 5, samplesInside: 3, share: 0.6 });
    assert.deepEqual(shareOf(profile, "absent"), { busySamples: 5, samplesInside: 0, share: 0 });
  });

  test("GetMovie's and CreateOrder's CPU per call, and CreateOrder's latency and event-loop delay at a fixed rate, are judged on each engine", () => {
    const extras = (cpu: number, extra: Partial<Run>): Run => ({ ...run(1, 100, cpu), ...extra });
    const checks = checkTargets({
      cells: summarize([
        cell("db-get-movie", "this-database", [extras(95, { loopDelayP99Ms: 3 })]),
        cell("db-get-movie", "this-postgres", [extras(140, { postgresCpuUsPerUnit: 30, loopDelayP99Ms: 3 })]),
        cell("db-create-order", "this-database", [extras(300, { loopDelayP99Ms: 40 })]),
        cell("db-create-order", "this-postgres", [extras(300, { postgresCpuUsPerUnit: 200, loopDelayP99Ms: 21 })]),
        cell("db-create-order-paced", "this-database", [extras(200, { p99Ms: 12, loopDelayP99Ms: 4.5, rssMiB: 150 })]),
        cell("db-create-order-paced", "this-postgres", [extras(300, { p99Ms: 25, loopDelayP99Ms: 21 })]),
      ]),
      memory: undefined,
      idleRssMiB: 144,
      validation: undefined,
      stream: undefined,
    });
    const found = (start: string) => checks.find((check) => check.target.startsWith(start));
    assert.equal(found("GetMovie 8×16 on the embedded database: ≤ 100 µs")?.ok, true);
    assert.deepEqual(found("GetMovie 8×16 on PostgreSQL: ≤ 130 µs"), {
      target: "GetMovie 8×16 on PostgreSQL: ≤ 130 µs of the server's CPU per call",
      ok: false,
      detail: "140.0 µs (PostgreSQL's own: 30.0 µs)",
    });
    assert.equal(found("CreateOrder 8×16 on the embedded database (synchronous=full): ≤ 250 µs")?.ok, false);
    assert.equal(found("CreateOrder 8×16 on PostgreSQL: ≤ 350 µs")?.ok, true);
    assert.equal(found("CreateOrder at 1,000/s on the embedded database: p99 < 20 ms")?.ok, true);
    assert.equal(found("CreateOrder at 1,000/s on the embedded database: event-loop delay p99 ≤ 5 ms")?.ok, true);
    assert.equal(found("CreateOrder at 1,000/s on PostgreSQL: p99 < 20 ms")?.ok, false);
    assert.equal(found("CreateOrder at 1,000/s on PostgreSQL: event-loop delay")?.detail, "21.0 ms");
    // 144 MiB is over 150 MB (143.1 MiB): the idle server's RSS is judged, the highest at a run's end reported beside it.
    assert.deepEqual(found("RSS once idle after the database workloads"), {
      target: "RSS once idle after the database workloads on the embedded database ≤ 150 MB (143.1 MiB)",
      ok: false,
      detail: "144 MiB; 150 MiB at most as a run ended",
    });
  });
});

test("runs that measured nothing and busy cores are reported", () => {
  const run = (others: number, load: number): Run => ({
    round: 1,
    seconds: 1,
    calls: 1,
    units: 1,
    rate: 1,
    p50Ms: 1,
    p99Ms: 1,
    cpuUsPerUnit: 1,
    rssMiB: 1,
    failed: 0,
    cores: { serverCorePct: 100, othersOnServerCorePct: others, loadCorePct: load },
  });
  const quiet = runNotes([{ workload: "w", title: "w", unit: "calls", server: "this", runs: [run(1, 50), run(2, 60)] }]);
  assert.deepEqual(quiet, []);
  const busy = runNotes([
    { workload: "w", title: "w", unit: "calls", server: "raw-h2", runs: [run(30, 95), run(10, 50), { ...run(20, 50), units: 0 }] },
  ]);
  assert.equal(busy.length, 3);
  assert.match(busy[0] ?? "", /^1 run\(s\) ended no call: w\/raw node:http2/);
  assert.match(busy[1] ?? "", /median 20% \(up to 30%\)/);
  assert.match(busy[2] ?? "", /busy in w\/raw node:http2:/);
  const everywhere = runNotes([{ workload: "w", title: "w", unit: "calls", server: "this", runs: [run(1, 95), run(1, 99)] }]);
  assert.match(everywhere[0] ?? "", /busy in every run:/);
});

describe("options", () => {
  test("defaults, --quick and explicit values", () => {
    const defaults = parseOptions([], {});
    assert.equal(defaults?.rounds, 3);
    assert.equal(defaults?.memoryCalls, 1_000_000);
    assert.equal(defaults?.movies, 10_000);
    assert.equal(parseOptions([], { BENCH_MEMORY_CALLS: "5000" })?.memoryCalls, 5000);
    assert.equal(defaults?.startupRuns, 3);
    assert.equal(parseOptions(["--quick"], {})?.startupRuns, 1);
    assert.equal(parseOptions(["--quick", "--startup-runs", "0"], {})?.startupRuns, 0);
    const quick = parseOptions(["--quick", "--duration", "0.5"], {});
    assert.equal(quick?.rounds, 1);
    assert.equal(quick?.durationMs, 500);
    assert.deepEqual(parseOptions(["--workloads", "a, b"], {})?.workloads, ["a", "b"]);
    assert.equal(parseOptions(["--help"], {}), undefined);
  });

  test("nonsense is a usage error", () => {
    assert.throws(() => parseOptions(["--rounds", "0"], {}), UsageError);
    assert.throws(() => parseOptions(["--rounds", "1.5"], {}), UsageError);
    assert.throws(() => parseOptions(["--duration", "soon"], {}), UsageError);
    assert.throws(() => parseOptions(["--nope"], {}), UsageError);
  });
});

describe("observability cost, WORKERS, start-up", () => {
  const cell = (server: CellRuns["server"], rate: number, cpu: number, workload = "grpc-unary-8x16") => {
    const [summary] = summarize([
      {
        workload,
        title: workload,
        unit: "calls",
        server,
        runs: [{ round: 1, seconds: 1, calls: rate, units: rate, rate, p50Ms: 1, p99Ms: 2, cpuUsPerUnit: cpu, rssMiB: 100, failed: 0 }],
      },
    ]);
    if (summary === undefined) throw new Error("no cell");
    return summary;
  };

  test("a cost is the share of the base's throughput lost, measured and as CPU per call predicts it", () => {
    const cost = costOf({ rate: 1000, cpuUsPerUnit: 100 }, { rate: 800, cpuUsPerUnit: 125 });
    assert.ok(Math.abs(cost.throughputPct - 20) < 1e-9);
    // 25% more CPU per call is 20% less throughput for a CPU-bound server.
    assert.ok(Math.abs(cost.cpuPct - 20) < 1e-9);
    assert.ok(costOf({ rate: 1000, cpuUsPerUnit: 100 }, { rate: 1100, cpuUsPerUnit: 90 }).cpuPct < 0, "cheaper is a negative cost");
  });

  test("metrics are judged against metrics off, tracing against the default, both by CPU per call", () => {
    const verdicts = (cells: ReturnType<typeof cell>[]) => observabilityTargets(cells).map((check) => check.ok);
    const off = cell("this-metrics-off", 1000, 100);
    // Metrics: 104 µs vs 100 is 3.8% (ok) although throughput fell 10% (noise, not judged).
    // Tracing sampled at 0.1: 108 µs vs 104 is 3.7% (ok); 115 µs vs 106 is 7.8% (a miss). Sampling everything is not judged.
    assert.deepEqual(verdicts([off, cell("this", 900, 104), cell("this-tracing-sampled", 850, 108), cell("this-tracing", 500, 200)]), [
      true,
      true,
    ]);
    assert.deepEqual(verdicts([off, cell("this", 1000, 106), cell("this-tracing-sampled", 800, 115)]), [false, false]);
    assert.deepEqual(verdicts([cell("this", 1000, 100)]), [undefined, undefined], "variants not run: skipped");
    assert.deepEqual(verdicts([off, cell("this", 1000, 100, "grpc-unary-1x1")]), [undefined, undefined], "only the 8×16 workload counts");
    const checks = checkTargets({
      cells: [off, cell("this", 900, 104)],
      memory: undefined,
      idleRssMiB: undefined,
      validation: undefined,
      stream: undefined,
    });
    assert.ok(checks.some((check) => check.target.startsWith("Metrics on (tracing off) cost ≤ 5%") && check.ok === true));
  });

  test("the cost table has the variants around the default, each against it", () => {
    const text = observabilityTable([cell("this", 1000, 100), cell("this-metrics-off", 1050, 96), cell("this-tracing", 800, 125)]);
    const lines = text?.split("\n") ?? [];
    assert.equal(lines.length, 5);
    assert.match(lines[2] ?? "", /^\| this server, metrics off \| 1,050 \| \+5\.0% \| 96\.0 \| \+4\.2% \|$/);
    assert.match(lines[3] ?? "", /^\| this server \(default: metrics on, tracing off\) \| 1,000 \| {2}\| 100\.0 \| {2}\|$/);
    assert.match(lines[4] ?? "", /^\| this server, tracing 1\.0 \| 800 \| −20\.0% \| 125\.0 \| −20\.0% \|$/);
    assert.equal(observabilityTable([cell("this", 1000, 100)]), undefined, "nothing to compare");
  });

  test("WORKERS=2 against WORKERS=1, with no target", () => {
    const summary = workersSummary([cell("workers-1", 1000, 100, "w"), cell("workers-2", 1500, 110, "w")]);
    assert.equal(summary?.ratio, 1.5);
    assert.match(workersLine(summary ?? assert.fail()), /1,500 vs 1,000 calls\/s \(1\.50×\).*No target/);
    assert.equal(workersSummary([cell("workers-1", 1000, 100, "w")]), undefined);
  });

  test("a process tree from parent pids, and sums that skip processes gone meanwhile", () => {
    assert.equal(parentFromStat("4242 (node (worker) x) S 4200 4242 4242 0 -1"), 4200);
    const parents = new Map([
      [1, 0],
      [10, 1],
      [11, 10],
      [12, 10],
      [13, 12],
      [20, 1],
    ]);
    assert.deepEqual(descendants(parents, 10), [10, 11, 12, 13]);
    assert.deepEqual(descendants(parents, 20), [20]);
    assert.equal(
      sumOver([1, 2, 3], (pid) => {
        if (pid === 2) throw new Error("gone");
        return pid * 10;
      }),
      40,
    );
  });

  test("the serving line's time is read from the JSON log", () => {
    const log = [
      '{"level":30,"time":"2026-01-01T00:00:01.000Z","msg":"migrating"}',
      "not json",
      '{"level":30,"time":"2026-01-01T00:00:02.250Z","port":1,"msg":"serving gRPC, gRPC-Web and Connect on http://127.0.0.1:1"}',
      '{"level":30,"time":"2026-01-01T00:00:03.000Z","msg":"serving gRPC, gRPC-Web and Connect on http://127.0.0.1:1"}',
    ].join("\n");
    assert.equal(servingAt(log), Date.parse("2026-01-01T00:00:02.250Z"));
    assert.equal(servingAt('{"msg":"starting"}\n'), undefined);
  });

  test("start-up medians, table and targets: 1 s new, 0.5 s existing, 100 MB RSS", () => {
    const runs = [
      { kind: "new" as const, run: 1, servingMs: 300, rssMiB: 90 },
      { kind: "new" as const, run: 2, servingMs: 1700, rssMiB: 94 },
      { kind: "new" as const, run: 3, servingMs: 400, rssMiB: 92 },
      { kind: "existing" as const, run: 1, servingMs: 600, rssMiB: 88 },
      { kind: "memory" as const, run: 1, servingMs: 250, rssMiB: 97 },
    ];
    const cells = summarizeStartup(runs);
    assert.deepEqual(
      cells.map((c) => [c.kind, c.runs, c.servingMs, c.maxServingMs, c.rssMiB]),
      [
        ["new", 3, 400, 1700, 92],
        ["existing", 1, 600, 600, 88],
        ["memory", 1, 250, 250, 97],
      ],
    );
    assert.match(startupTable(cells).split("\n")[2] ?? "", /^\| new data folder \| 3 \| 0\.40 \| 1\.70 \| 92 \|$/);
    // The median is judged; 97 MiB is over 100 MB (95.4 MiB).
    assert.deepEqual(
      startupTargets(cells).map((check) => check.ok),
      [true, false, false],
    );
    assert.deepEqual(
      startupTargets([]).map((check) => check.ok),
      [undefined, undefined, undefined],
    );
  });

  test("PostgreSQL for the WORKERS comparison: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local default", () => {
    assert.equal(benchDatabaseUrl({ BENCH_DATABASE_URL: "postgres://a@b/c", TEST_DATABASE_URL: "postgres://d@e/f" }), "postgres://a@b/c");
    assert.equal(benchDatabaseUrl({ TEST_DATABASE_URL: "postgres://d@e/f" }), "postgres://d@e/f");
    assert.equal(benchDatabaseUrl({ BENCH_DATABASE_URL: "" }), defaultBenchDatabaseUrl);
    assert.equal(redacted("postgres://app:secret@db:5432/shop"), "postgres://app:***@db:5432/shop");
  });
});
