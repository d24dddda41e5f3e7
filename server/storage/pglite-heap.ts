import cluster from "node:cluster";
import v8 from "node:v8";

/**
 * V8 heap settings for a process that runs the embedded database: the
 * benchmark's database workloads (128 calls at a time) otherwise take the
 * server from 180 to about 440 MiB RSS, almost all of it V8's heap, which
 * keeps the pages it grew into.
 *
 * - The young generation stays at 4 MiB semi-spaces instead of growing to
 *   16 MiB: V8 would keep 64 MiB of new space resident, 32 of it touched by
 *   every scavenge cycle. 4 MiB still holds what 128 calls in flight keep
 *   alive, so a cheap call's objects die young; at 1 MiB many of them
 *   outlived the young generation and a gRPC SquareRoot at 128 in flight
 *   cost about a sixth more CPU (81 against 70 µs).
 * - The old generation grows by half of what survives a full collection
 *   rather than by up to four times it: under load V8 otherwise lets 100 MiB
 *   of garbage pile up before it marks.
 *
 * V8 fixes the semi-space limits when the process starts, so they are
 * command-line flags: `node dist/server/main.js` starts again in place
 * (same process id, same open files) with them, before anything else is
 * loaded. HEAP_PROFILE chooses (server/config.ts): "small", this, is the
 * default with the embedded database; "fast" keeps V8's defaults.
 * test/e2e/storage-embedded.test.ts fails if the heap stops being small.
 */
const startFlags = ["--min-semi-space-size=4", "--max-semi-space-size=4"];
const runTimeFlags = ["--heap-growing-percent=50"];

export function lightHeap(): void {
  const missing = startFlags.filter((flag) => !process.execArgv.includes(flag));
  // Cluster workers inherit the primary's flags. A process with an IPC
  // channel (a fork) would lose it: it keeps V8's start-up sizes instead.
  if (missing.length > 0 && cluster.isPrimary && process.channel === undefined && typeof process.execve === "function") {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], process.env);
  }
  for (const flag of runTimeFlags) v8.setFlagsFromString(flag);
}
