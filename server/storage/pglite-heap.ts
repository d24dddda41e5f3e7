import v8 from "node:v8";

/**
 * V8 heap settings for a process that runs the embedded database, made
 * before the heap has grown: the benchmark's database workloads (128 calls
 * at a time) otherwise take the server from 180 to about 440 MiB RSS, almost
 * all of it V8's heap, which keeps the pages it grew into.
 *
 * - The young generation stays at the size it starts with (1 MiB
 *   semi-spaces) instead of doubling up to 16 MiB: V8 would keep 64 MiB of
 *   new space resident, 32 of it touched by every scavenge cycle.
 * - The old generation grows by half of what survives a full collection
 *   rather than by up to four times it: under load V8 otherwise lets 100 MiB
 *   of garbage pile up before it marks.
 *
 * Together: about 205 MiB under those workloads. The price is more
 * frequent collection (V8's concurrent marking runs more often): on the
 * database workloads the batching of protocol messages (pglite-batching.ts)
 * pays for it, but a cheap call at 128 at a time (gRPC SquareRoot) costs
 * about a third more CPU, most of its objects now outliving the small young
 * generation. HEAP_PROFILE chooses (server/config.ts): "small", this, is the
 * default with the embedded database; "fast" keeps V8's defaults. Both flags are read by V8
 * at every collection, so setting them at run time takes effect; the
 * limits V8 fixes at start (--max-semi-space-size) could only be set on
 * the command line, which `node dist/server/main.js` would not have.
 * test/e2e/storage-embedded.test.ts fails if a Node release changes that.
 */
export function lightHeap(): void {
  v8.setFlagsFromString("--semi-space-growth-factor=1");
  v8.setFlagsFromString("--heap-growing-percent=50");
}
