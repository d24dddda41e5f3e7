/**
 * What one server span costs by itself: the tracing interceptor and the
 * OpenTelemetry SDK, configured as the server configures them (always on,
 * batched OTLP/HTTP protobuf export to the sink at the given port), around
 * the tutorial Calculator's SquareRoot, called through connect's in-memory
 * router transport. No sockets, no HTTP/2, no call log: the same calls are
 * made with and without the interceptor, in alternating rounds, and the
 * difference in CPU per call is the span's own work (start, context, end,
 * export). Inside a loaded server a span costs more than this (among other
 * things, what it keeps alive until export adds to the garbage collector's
 * work); this part does not depend on what the server around it does.
 *
 *   node dist/scripts/bench/span-floor.js <sink port> [--quick]
 *
 * Prints {"withoutUs": N, "withUs": N, "spanUs": N} (medians over rounds).
 */
import { type ConnectRouter, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { loadConfig } from "../../server/config.js";
import { tracingInterceptor } from "../../server/interceptors/tracing.js";
import { createLogger } from "../../server/logger.js";
import { startTracing } from "../../server/observability/tracing.js";
import { tutorialCalculatorService } from "../../server/services/tutorial/calculator.js";
import { median } from "./stats.js";

const sinkPort = Number(process.argv[2]);
if (!Number.isInteger(sinkPort) || sinkPort <= 0) throw new Error("usage: span-floor.js <OTLP sink port> [--quick]");
// A smoke run (the bench's --quick) only checks that it works.
const { warmupBatches, rounds, batches } =
  process.argv[3] === "--quick" ? { warmupBatches: 10, rounds: 1, batches: 10 } : { warmupBatches: 100, rounds: 5, batches: 60 };

const config = loadConfig(
  { DATA_DIR: "memory://", OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`, OTEL_TRACES_SAMPLER: "always_on" },
  false,
);
if (config.tracing === undefined) throw new Error("tracing did not turn on");
const tracing = await startTracing(config.tracing, createLogger({ logLevel: "warn", logFormat: "json" }));

const routes = (router: ConnectRouter) => router.service(Calculator, tutorialCalculatorService);
const clientWith = (interceptors: Interceptor[]) => createClient(Calculator, createRouterTransport(routes, { router: { interceptors } }));
const plain = clientWith([]);
const traced = clientWith([tracingInterceptor(tracing)]);

/** As many calls at a time as the benchmark's 8×16 load keeps in flight. */
const inFlight = 128;

async function round(client: typeof plain, batches: number): Promise<number> {
  const before = process.cpuUsage();
  for (let batch = 0; batch < batches; batch++) {
    await Promise.all(Array.from({ length: inFlight }, () => client.squareRoot({ value: 64 })));
    // A turn of the event loop between batches, as a server has: the exporter's timers and sockets run.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / (batches * inFlight);
}

// Warm-up: both paths compiled, the exporter's connection open.
await round(traced, warmupBatches);
await round(plain, warmupBatches);
const without: number[] = [];
const withSpan: number[] = [];
for (let i = 0; i < rounds; i++) {
  without.push(await round(plain, batches));
  withSpan.push(await round(traced, batches));
}
await tracing.shutdown();
const withoutUs = median(without);
const withUs = median(withSpan);
process.stdout.write(`${JSON.stringify({ withoutUs, withUs, spanUs: withUs - withoutUs })}\n`);
