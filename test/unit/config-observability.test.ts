import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.js";

function configError(env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => loadConfig(env, false),
    (error: unknown) => error instanceof ConfigError && message.test(error.message),
  );
}

describe("loadConfig: metrics", () => {
  test("on, beside the API, by default; METRICS=off turns them off", () => {
    assert.deepEqual(loadConfig({}, false).metrics, { enabled: true, port: undefined, hosts: ["127.0.0.1"] });
    assert.equal(loadConfig({ METRICS: "off" }, false).metrics.enabled, false);
    configError({ METRICS: "maybe" }, /^METRICS must be one of on, off/);
  });

  test("METRICS_PORT gives /metrics a port of its own, on 127.0.0.1 whatever HOST says, unless METRICS_HOST says", () => {
    assert.deepEqual(loadConfig({ METRICS_PORT: "9464", HOST: "0.0.0.0", AUTH_MODE: "off" }, false).metrics, {
      enabled: true,
      port: 9464,
      hosts: ["127.0.0.1"],
    });
    assert.deepEqual(loadConfig({ METRICS_PORT: "9464", METRICS_HOST: "10.0.0.5" }, false).metrics.hosts, ["10.0.0.5"]);
    configError({ METRICS_PORT: "8080" }, /^METRICS_PORT must differ from PORT/);
    configError({ METRICS_PORT: "70000" }, /^METRICS_PORT must be a whole number/);
    configError({ METRICS_HOST: "127.0.0.1" }, /^METRICS_HOST is set but METRICS_PORT is not/);
    configError({ METRICS_PORT: "9464", METRICS_HOST: "not a host" }, /^METRICS_HOST: "not a host"/);
  });
});

describe("loadConfig: tracing (the standard OTEL_* variables)", () => {
  test("off unless an OTLP endpoint or OTEL_TRACES_EXPORTER is set", () => {
    assert.equal(loadConfig({}, false).tracing, undefined);
    assert.equal(loadConfig({ OTEL_SERVICE_NAME: "shop" }, false).tracing, undefined);
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" }, false).tracing, undefined);
    assert.equal(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "none" }, false).tracing,
      undefined,
    );
  });

  test("an endpoint turns it on with the SDK's defaults", () => {
    assert.deepEqual(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, false).tracing, {
      exporters: ["otlp"],
      otlp: { url: "http://collector:4318/v1/traces", headers: {}, timeoutMs: 10_000, compression: "none" },
      sampler: { parentBased: true, ratio: 1 },
      propagators: ["tracecontext", "baggage"],
      serviceName: "connect-polyglot-server",
      resourceAttributes: {},
      batch: { scheduledDelayMs: 5_000, exportTimeoutMs: 30_000, maxQueueSize: 2_048, maxExportBatchSize: 512 },
    });
  });

  test("reads every variable", () => {
    const tracing = loadConfig(
      {
        OTEL_TRACES_EXPORTER: "otlp,console",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://collector.example.com/custom/traces",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_EXPORTER_OTLP_HEADERS: "api-key=secret%20value,x-tenant=a",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=b",
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "2500",
        OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
        OTEL_PROPAGATORS: "tracecontext",
        OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes,deployment.environment.name=prod",
        OTEL_SERVICE_NAME: "shop",
        OTEL_BSP_SCHEDULE_DELAY: "100",
        OTEL_BSP_EXPORT_TIMEOUT: "1000",
        OTEL_BSP_MAX_QUEUE_SIZE: "100",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "512",
      },
      false,
    ).tracing;
    assert.deepEqual(tracing, {
      exporters: ["otlp", "console"],
      otlp: {
        url: "https://collector.example.com/custom/traces",
        headers: { "api-key": "secret value", "x-tenant": "b" },
        timeoutMs: 2500,
        compression: "gzip",
      },
      sampler: { parentBased: true, ratio: 0.25 },
      propagators: ["tracecontext"],
      serviceName: "shop",
      resourceAttributes: { "service.name": "from-attributes", "deployment.environment.name": "prod" },
      // A batch is never larger than the queue.
      batch: { scheduledDelayMs: 100, exportTimeoutMs: 1000, maxQueueSize: 100, maxExportBatchSize: 100 },
    });
  });

  test("samplers", () => {
    const sampler = (env: Record<string, string>) => loadConfig({ OTEL_TRACES_EXPORTER: "console", ...env }, false).tracing?.sampler;
    assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: "always_on" }), { parentBased: false, ratio: 1 });
    assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: "always_off" }), { parentBased: false, ratio: 0 });
    assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: "parentbased_always_off" }), { parentBased: true, ratio: 0 });
    assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: ".5" }), { parentBased: false, ratio: 0.5 });
    assert.deepEqual(sampler({ OTEL_TRACES_SAMPLER: "traceidratio" }), { parentBased: false, ratio: 1 });
    configError({ OTEL_TRACES_EXPORTER: "console", OTEL_TRACES_SAMPLER: "sometimes" }, /^OTEL_TRACES_SAMPLER must be one of/);
    configError(
      { OTEL_TRACES_EXPORTER: "console", OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" },
      /^OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/,
    );
  });

  test("what this server cannot do is refused at start, naming the variable", () => {
    configError({ OTEL_TRACES_EXPORTER: "zipkin" }, /^OTEL_TRACES_EXPORTER must list otlp, console or none, got "zipkin"$/);
    configError(
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      /^OTEL_EXPORTER_OTLP_PROTOCOL: .*http\/protobuf/,
    );
    configError({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, /^OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL/);
    configError({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://c/" }, /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be/);
    configError({ OTEL_TRACES_EXPORTER: "console", OTEL_PROPAGATORS: "b3" }, /^OTEL_PROPAGATORS: "b3" is not supported/);
    configError(
      { OTEL_TRACES_EXPORTER: "console", OTEL_RESOURCE_ATTRIBUTES: "novalue" },
      /^OTEL_RESOURCE_ATTRIBUTES: "novalue" is not key=value/,
    );
    configError({ OTEL_TRACES_EXPORTER: "console", OTEL_BSP_SCHEDULE_DELAY: "soon" }, /^OTEL_BSP_SCHEDULE_DELAY must be a whole number/);
  });
});
