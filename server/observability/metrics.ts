import { Counter, Gauge, Registry } from "prom-client";
import { innerMap } from "../get-or-create.js";
import { processMetrics } from "./process-metrics.js";
import { networkProtocolVersion, otherMethod, type Protocol, protocolLabel, rpcSystemName, statusCodeName } from "./rpc-attributes.js";
import { HistogramFamily, type HistogramSeries, ValueFamily, type ValueSeries } from "./series.js";

/*
 * Every metric the server exposes at /metrics, in Prometheus form. The RPC
 * ones follow the OpenTelemetry RPC semantic conventions, named the way the
 * OpenTelemetry-to-Prometheus mapping names them (dots to underscores, unit
 * as a suffix): `rpc.server.call.duration` (seconds) becomes
 * rpc_server_call_duration_seconds. The semconv no longer defines message
 * sizes and counts (rpc.server.request.size, rpc.server.requests_per_rpc,
 * deprecated "with no replacement"); they are kept under their last names
 * because operators of streaming APIs need them. The started/handled
 * counters are the grpc-ecosystem (go-grpc-prometheus) pair, with the same
 * labels as the semconv histogram.
 *
 * Labels: rpc_system_name (grpc | connectrpc), protocol (grpc | grpc_web |
 * connect), rpc_service, rpc_method (fully qualified, "pkg.Service/Method",
 * or _OTHER), network_protocol_version (1.1 | 2) and rpc_status_code (OK,
 * INVALID_ARGUMENT, ...). Only registered procedures are label values.
 */

/**
 * Call latency, from a tenth of a millisecond: Calculator and Greeter calls
 * take well under one, database calls a few.
 */
const durationBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Message sizes in bytes, 16 B to 4 MiB (READ_MAX_BYTES's default) by fours. */
const sizeBuckets = [16, 64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304];
/** Messages per streaming call. */
const countBuckets = [1, 2, 4, 8, 16, 64, 256, 1024, 4096, 16_384];
/** Database query latency: an embedded query takes tens of microseconds. */
const queryBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const callLabels = ["rpc_system_name", "protocol", "rpc_service", "rpc_method", "network_protocol_version"] as const;
const endLabels = [...callLabels, "rpc_status_code"] as const;
const methodLabels = ["protocol", "rpc_service", "rpc_method"] as const;

type CallLabels = Record<(typeof callLabels)[number], string>;
type MethodLabels = Record<(typeof methodLabels)[number], string>;

/** What identifies a call in every RPC metric. */
export interface CallIdentity {
  /** The service's full name ("calculator.v1.CalculatorService"), or undefined when no procedure matched. */
  readonly service: string | undefined;
  /** The method's name ("SquareRoot"), or undefined when no procedure matched. */
  readonly method: string | undefined;
  readonly protocol: Protocol;
  /** Node's request.httpVersion: "1.1" or "2.0". */
  readonly httpVersion: string;
  /** True for client, server and bidirectional streams. */
  readonly streaming: boolean;
}

/** One call in progress: its messages as they pass, then its end (exactly once). */
export interface CallRecord {
  received(bytes: number): void;
  sent(bytes: number): void;
  end(error: unknown): void;
}

/**
 * The series one kind of call (method, protocol, HTTP version) updates,
 * each created the first time it is needed (a unary method never shows
 * streams open), then kept: no lookup per update.
 */
class CallSeries {
  private startedSeries: ValueSeries | undefined;
  private inFlightSeries: ValueSeries | undefined;
  private streamsOpenSeries: ValueSeries | undefined;
  private requestSizeSeries: HistogramSeries | undefined;
  private responseSizeSeries: HistogramSeries | undefined;
  private requestsPerRpcSeries: HistogramSeries | undefined;
  private responsesPerRpcSeries: HistogramSeries | undefined;
  /** By rpc_status_code. */
  private readonly endedSeries = new Map<string, { handled: ValueSeries; duration: HistogramSeries }>();

  constructor(
    private readonly families: CallFamilies,
    readonly labels: CallLabels,
    private readonly byMethod: MethodLabels,
  ) {}

  get started(): ValueSeries {
    this.startedSeries ??= this.families.started.child(this.labels);
    return this.startedSeries;
  }
  get inFlight(): ValueSeries {
    this.inFlightSeries ??= this.families.inFlight.child(this.byMethod);
    return this.inFlightSeries;
  }
  get streamsOpen(): ValueSeries {
    this.streamsOpenSeries ??= this.families.streamsOpen.child(this.byMethod);
    return this.streamsOpenSeries;
  }
  get requestSize(): HistogramSeries {
    this.requestSizeSeries ??= this.families.requestSize.child(this.byMethod);
    return this.requestSizeSeries;
  }
  get responseSize(): HistogramSeries {
    this.responseSizeSeries ??= this.families.responseSize.child(this.byMethod);
    return this.responseSizeSeries;
  }
  get requestsPerRpc(): HistogramSeries {
    this.requestsPerRpcSeries ??= this.families.requestsPerRpc.child(this.byMethod);
    return this.requestsPerRpcSeries;
  }
  get responsesPerRpc(): HistogramSeries {
    this.responsesPerRpcSeries ??= this.families.responsesPerRpc.child(this.byMethod);
    return this.responsesPerRpcSeries;
  }

  /** Counts the end of a call begun at `started` (performance.now()) with the status of `error`. */
  ended(started: number, error: unknown): void {
    const code = statusCodeName(error);
    let byCode = this.endedSeries.get(code);
    if (byCode === undefined) {
      const labels = { ...this.labels, rpc_status_code: code };
      byCode = { handled: this.families.handled.child(labels), duration: this.families.duration.child(labels) };
      this.endedSeries.set(code, byCode);
    }
    byCode.handled.value++;
    byCode.duration.observe((performance.now() - started) / 1000);
  }
}

/** One call in progress (one object per call: the hot path allocates little). */
class ActiveCall implements CallRecord {
  private readonly started = performance.now();
  private receivedCount = 0;
  private sentCount = 0;
  private done = false;

  constructor(
    private readonly series: CallSeries,
    private readonly streaming: boolean,
  ) {
    series.started.value++;
    series.inFlight.value++;
    if (streaming) series.streamsOpen.value++;
  }

  received(bytes: number): void {
    this.receivedCount++;
    this.series.requestSize.observe(bytes);
  }

  sent(bytes: number): void {
    this.sentCount++;
    this.series.responseSize.observe(bytes);
  }

  end(error: unknown): void {
    if (this.done) return;
    this.done = true;
    const { series } = this;
    series.ended(this.started, error);
    series.inFlight.value--;
    if (this.streaming) {
      series.streamsOpen.value--;
      series.requestsPerRpc.observe(this.receivedCount);
      series.responsesPerRpc.observe(this.sentCount);
    }
  }
}

type CallFamilies = Pick<
  ServerMetrics,
  "started" | "handled" | "duration" | "inFlight" | "streamsOpen" | "requestSize" | "responseSize" | "requestsPerRpc" | "responsesPerRpc"
>;

export class ServerMetrics {
  readonly registry = new Registry();

  readonly started = new ValueFamily(
    "counter",
    { name: "rpc_server_started_total", help: "RPCs the server began, by method and protocol.", labelNames: callLabels },
    this.registry,
  );
  readonly handled = new ValueFamily(
    "counter",
    {
      name: "rpc_server_handled_total",
      help: "RPCs the server finished, by method, protocol and the status the client got.",
      labelNames: endLabels,
    },
    this.registry,
  );
  readonly duration = new HistogramFamily(
    {
      name: "rpc_server_call_duration_seconds",
      help: "Duration of incoming RPCs, from the first interceptor until the last message is sent (semconv rpc.server.call.duration).",
      labelNames: endLabels,
      buckets: durationBuckets,
    },
    this.registry,
  );
  readonly inFlight = new ValueFamily(
    "gauge",
    { name: "rpc_server_calls_in_flight", help: "RPCs running now.", labelNames: methodLabels },
    this.registry,
  );
  readonly streamsOpen = new ValueFamily(
    "gauge",
    { name: "rpc_server_streams_open", help: "Streaming RPCs (client, server or bidirectional) running now.", labelNames: methodLabels },
    this.registry,
  );
  readonly requestSize = new HistogramFamily(
    {
      name: "rpc_server_request_size_bytes",
      help: "Size of each request message, serialized as binary protobuf, uncompressed (semconv rpc.server.request.size).",
      labelNames: methodLabels,
      buckets: sizeBuckets,
    },
    this.registry,
  );
  readonly responseSize = new HistogramFamily(
    {
      name: "rpc_server_response_size_bytes",
      help: "Size of each response message, serialized as binary protobuf, uncompressed (semconv rpc.server.response.size).",
      labelNames: methodLabels,
      buckets: sizeBuckets,
    },
    this.registry,
  );
  readonly requestsPerRpc = new HistogramFamily(
    {
      name: "rpc_server_requests_per_rpc",
      help: "Messages received per streaming RPC (semconv rpc.server.requests_per_rpc); unary calls receive one.",
      labelNames: methodLabels,
      buckets: countBuckets,
    },
    this.registry,
  );
  readonly responsesPerRpc = new HistogramFamily(
    {
      name: "rpc_server_responses_per_rpc",
      help: "Messages sent per streaming RPC (semconv rpc.server.responses_per_rpc); unary calls send one.",
      labelNames: methodLabels,
      buckets: countBuckets,
    },
    this.registry,
  );

  private readonly connectionsOpen = new Gauge({
    name: "http_server_open_connections",
    help: "Client connections open now, by HTTP version (after the protocol is known: ALPN or the first bytes).",
    labelNames: ["network_protocol_version"],
    registers: [this.registry],
  });
  private readonly connectionsTotal = new Counter({
    name: "http_server_connections_total",
    help: "Client connections accepted, by HTTP version.",
    labelNames: ["network_protocol_version"],
    registers: [this.registry],
  });
  private readonly authRejections = new Counter({
    name: "rpc_server_auth_rejections_total",
    help: "Calls refused by authentication or authorization, by status (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE when keys cannot be fetched).",
    labelNames: ["rpc_status_code"],
    registers: [this.registry],
  });
  private readonly rateLimitRejections = new Counter({
    name: "rpc_server_rate_limit_rejections_total",
    help: "Calls refused with RESOURCE_EXHAUSTED because their caller spent its budget, by budget (reads, writes, or auth_failures: a client address's failed authentications).",
    labelNames: ["budget"],
    registers: [this.registry],
  });

  /** Query latency by operation (semconv db.client.operation.duration). */
  readonly queryDuration = new HistogramFamily(
    {
      name: "db_client_operation_duration_seconds",
      help: "Duration of database queries made for calls, by operation (SELECT, INSERT, ...) and error type.",
      labelNames: ["db_system_name", "db_operation_name", "error_type"],
      buckets: queryBuckets,
    },
    this.registry,
  );

  /** The series of each kind of call, built once: every call of a kind reuses them. */
  private readonly callSeries = new Map<string | undefined, Map<string | undefined, Map<string, Map<string, CallSeries>>>>();

  /** Counts a call that begins now; the record counts its messages and its end. */
  startCall(call: CallIdentity): CallRecord {
    return new ActiveCall(this.seriesOf(call), call.streaming);
  }

  /** Counts a call that already ended (one no interceptor saw), begun at `started` (performance.now()). */
  endedCall(call: CallIdentity, started: number, error: unknown): void {
    const series = this.seriesOf(call);
    series.started.value++;
    series.ended(started, error);
  }

  /** Counts a connection from now until it closes. */
  connection(httpVersion: "1.1" | "2", socket: { once(event: "close", listener: () => void): unknown }): void {
    const labels = { network_protocol_version: httpVersion };
    this.connectionsTotal.inc(labels);
    this.connectionsOpen.inc(labels);
    socket.once("close", () => this.connectionsOpen.dec(labels));
  }

  authRejected(error: unknown): void {
    this.authRejections.inc({ rpc_status_code: statusCodeName(error) });
  }

  rateLimited(budget: "reads" | "writes" | "auth_failures"): void {
    this.rateLimitRejections.inc({ budget });
  }

  /** Reports a value read when Prometheus scrapes (pool sizes, watcher counts): nothing is counted between scrapes. */
  gaugeAtScrape(options: { name: string; help: string; labelNames?: readonly string[]; read: (gauge: Gauge) => void }): void {
    const { read, ...rest } = options;
    new Gauge({
      ...rest,
      labelNames: rest.labelNames ?? [],
      registers: [this.registry],
      collect() {
        read(this);
      },
    });
  }

  /** The exposition: Node's process metrics, then this server's. */
  async text(): Promise<string> {
    const [process, server] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${process}${server}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Found by the call's own strings, level by level: no key is built per call. */
  private seriesOf({ service, method, protocol, httpVersion }: CallIdentity): CallSeries {
    const byMethod = innerMap(this.callSeries, service);
    const byHttp = innerMap(innerMap(byMethod, method), protocol);
    let series = byHttp.get(httpVersion);
    if (series === undefined) {
      const known = service !== undefined && method !== undefined;
      const rpcService = known ? service : otherMethod;
      const rpcMethod = known ? `${service}/${method}` : otherMethod;
      const protocolValue = protocolLabel(protocol);
      const labels: CallLabels = {
        rpc_system_name: rpcSystemName(protocol),
        protocol: protocolValue,
        rpc_service: rpcService,
        rpc_method: rpcMethod,
        network_protocol_version: networkProtocolVersion(httpVersion),
      };
      const methodLabels: MethodLabels = { protocol: protocolValue, rpc_service: rpcService, rpc_method: rpcMethod };
      series = new CallSeries(this, labels, methodLabels);
      byHttp.set(httpVersion, series);
    }
    return series;
  }
}
