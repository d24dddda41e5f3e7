import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
} from "@opentelemetry/api";
import type { TracingConfig } from "../config.js";
import type { Logger } from "../logger.js";

/**
 * Tracing for one server: a tracer whose spans go to the configured
 * exporters, and the propagator that reads the caller's trace context. Only
 * loaded when tracing is on (see startTracing): with tracing off the server
 * never imports the SDK.
 */
export interface Tracing {
  readonly tracer: Tracer;
  /** The caller's trace context from request headers (gRPC metadata, Connect and gRPC-Web headers alike). */
  extract(header: Headers): Context;
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

export const instrumentationScope = "connect-polyglot-server";

/** Sets up the SDK from `config` (the OTEL_* variables, read by loadConfig). */
export async function startTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  const [{ AsyncLocalStorageContextManager }, core, sdk, resources, { OTLPTraceExporter }] = await Promise.all([
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/exporter-trace-otlp-proto"),
  ]);

  // One context manager per process (AsyncLocalStorage carries the active
  // span through awaits, so database spans find their call's span); a
  // second server in the same process (tests) uses the one registered.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

  const propagator: TextMapPropagator = new core.CompositePropagator({
    propagators: config.propagators.map((name) =>
      name === "tracecontext" ? new core.W3CTraceContextPropagator() : new core.W3CBaggagePropagator(),
    ),
  });
  // For code that uses the global API (libraries that inject context into outgoing calls).
  propagation.setGlobalPropagator(propagator);

  const root =
    config.sampler.ratio >= 1
      ? new sdk.AlwaysOnSampler()
      : config.sampler.ratio <= 0
        ? new sdk.AlwaysOffSampler()
        : new sdk.TraceIdRatioBasedSampler(config.sampler.ratio);
  const sampler = config.sampler.parentBased ? new sdk.ParentBasedSampler({ root }) : root;

  const batch = {
    scheduledDelayMillis: config.batch.scheduledDelayMs,
    exportTimeoutMillis: config.batch.exportTimeoutMs,
    maxQueueSize: config.batch.maxQueueSize,
    maxExportBatchSize: config.batch.maxExportBatchSize,
  };
  type ExporterOptions = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;
  const spanProcessors = config.exporters.map((name) =>
    name === "otlp"
      ? new sdk.BatchSpanProcessor({
          ...batch,
          exporter: new OTLPTraceExporter({
            url: config.otlp.url,
            headers: { ...config.otlp.headers },
            timeoutMillis: config.otlp.timeoutMs,
            compression: config.otlp.compression as ExporterOptions["compression"],
          }),
        })
      : new sdk.BatchSpanProcessor({ ...batch, exporter: new sdk.ConsoleSpanExporter() }),
  );

  const provider = new sdk.TracerProvider({
    sampler,
    spanProcessors,
    resource: resources
      .defaultResource()
      .merge(resources.resourceFromAttributes({ ...config.resourceAttributes, "service.name": config.serviceName })),
  });
  logger.info(
    { exporters: config.exporters, endpoint: config.exporters.includes("otlp") ? config.otlp.url : undefined, sampler: config.sampler },
    `tracing on: spans go to ${config.exporters.map((name) => (name === "otlp" ? config.otlp.url : "stdout")).join(" and ")}`,
  );

  return {
    tracer: provider.getTracer(instrumentationScope),
    extract: (header) => propagator.extract(ROOT_CONTEXT, header, headerGetter),
    async shutdown() {
      await provider.shutdown().catch((error: unknown) => logger.warn({ err: error }, "could not export the last spans"));
    },
  };
}
