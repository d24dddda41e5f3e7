import cluster from "node:cluster";

/**
 * V8 heap settings for HEAP_PROFILE=small (server/config.ts; the default
 * with the embedded database):
 *
 * - The young generation grows as V8 sizes it, up to 8 MiB semi-spaces
 *   instead of V8's 16 (gRPC unary 8x16 peaks at about 175 MiB of RSS
 *   against 270). Not smaller: a call's objects must outlive the time
 *   between two scavenges to be promoted, and at 4 MiB too many did. Under
 *   CreateOrder at 1,000 calls/s (after 4 s at 8x16, 10,000 calls, by
 *   --trace-gc-nvp) 4 MiB promoted 3.4-4.2 KB per call, so the old
 *   generation filled and was marked and compacted (12-29 ms pauses) every
 *   5-10 s, and scavenges took 220-290 ms; up to 8 MiB promotes about 2 KB
 *   and scavenges take 120-160 ms. gRPC unary 8x16 spends about 9 instead of
 *   10.5 µs per call in scavenges. (Unlimited, 16 MiB: 1.7 KB per call, but
 *   the RSS above.)
 * - The old generation grows as V8 lets it. Held to half of what survives a
 *   full collection (`--heap-growing-percent=50`), it was marked and
 *   compacted every 1.5 s under CreateOrder at 1,000 calls/s, each a 10-16 ms
 *   pause: p99 45-65 ms and event-loop delay p99 10-14 ms, against 13-17 ms
 *   and 3-5 ms without it, and unary calls cost about 10% more CPU (69
 *   against 60 µs per call fresh, 68-75 against 62-68 µs after the database
 *   workloads). What it kept off is memory: RSS under load about 110 against
 *   170-260 MiB, and once idle after the database workloads 131 against
 *   160-180 MiB, the difference being in the main thread's malloc heap (brk:
 *   27 against 74 MiB), which holds the Buffers that wait longer for a
 *   collection and which glibc cannot shrink past what is still in use.
 * - Optimizing compilation (TurboFan) runs on the main thread rather than a
 *   helper thread: the helper's compiler memory stayed in its malloc arena,
 *   some 20 MiB of RSS once a load had warmed the code up (GetMovie 8x16:
 *   about 128 against 106 MiB), for the same CPU per call (measured on gRPC
 *   unary 8x16 and GetMovie). What it costs is the event loop while the
 *   code warms up: usually a few milliseconds per function compiled, once
 *   300 ms in one compilation 10 s into CreateOrder at 1,000 calls/s (perf).
 *
 * V8 fixes the semi-space limits and the compiler thread when the process
 * starts (setting them later changes nothing, measured), so they are
 * command-line flags: `node dist/server/main.js` starts again in place
 * (same process id, same open files) with them, before anything else is
 * loaded; nothing else sets them for every way the server is started
 * (NODE_OPTIONS would reach every child process too). Started with the
 * flags already, it does not restart. test/e2e/storage-embedded.test.ts fails
 * if the heap stops being small.
 * - `--expose-gc` lets the server return memory once it is idle
 *   (collectWhenIdle below).
 */
const startFlags = ["--max-semi-space-size=8", "--no-concurrent-recompilation", "--expose-gc"];

export function lightHeap(): void {
  const missing = startFlags.filter((flag) => !process.execArgv.includes(flag));
  // Cluster workers inherit the primary's flags. A process with an IPC
  // channel (a fork) would lose it: it keeps V8's start-up sizes instead.
  if (missing.length > 0 && cluster.isPrimary && process.channel === undefined && typeof process.execve === "function") {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], process.env);
  }
}

/** How often the event loop's recent work is looked at. */
const idleCheckMs = 2000;
/** At most this share of a check's interval spent working counts as idle. */
const idleUtilization = 0.02;
/** Growth of the resident set since the last collection that is worth a collection. */
const growthWorthCollecting = 16 * 2 ** 20;

/**
 * Gives memory back once the server has gone idle after work. V8 keeps what
 * a burst of calls grew (the old generation's pages, and the freed pages it
 * pools for reuse) until its memory reducer sees a low allocation rate,
 * which in Node it rarely does: after ListMovies, GetMovie and CreateOrder
 * under load the server stayed at 160-185 MiB for minutes, of which a full,
 * memory-reducing collection returned about 30-50 MiB. So when a two-second
 * window of the event loop was idle (at most 2% busy) and the resident set
 * has grown by 16 MiB since the last such collection, the server runs one:
 * 40-130 ms of the main thread, once per burst, at a moment nothing was
 * waiting (a call that arrives during it waits as long). The timer never
 * keeps the process alive.
 */
export function collectWhenIdle(): void {
  const collect = globalThis.gc;
  if (collect === undefined) return;
  let baseline = process.memoryUsage.rss();
  let previous = performance.eventLoopUtilization();
  setInterval(() => {
    const current = performance.eventLoopUtilization();
    const idle = performance.eventLoopUtilization(current, previous).utilization <= idleUtilization;
    previous = current;
    if (!idle) return;
    const resident = process.memoryUsage.rss();
    if (resident < baseline + growthWorthCollecting) {
      baseline = Math.min(baseline, resident);
      return;
    }
    collect({ type: "major", execution: "sync", flavor: "last-resort" });
    baseline = process.memoryUsage.rss();
  }, idleCheckMs).unref();
}
