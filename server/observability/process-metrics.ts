import { collectDefaultMetrics, Registry } from "prom-client";

let processRegistry: Registry | undefined;

/**
 * Node's own metrics (CPU, resident memory, heap by space, event loop lag,
 * GC pauses, open handles), once per process: they watch the process, not a
 * server, and their event loop and GC observers run for as long as it does.
 * Tests that start several servers in one process share them.
 */
export function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    // Event loop lag is sampled every 10 ms (the default): finer costs a timer wake-up per millisecond.
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
