/**
 * The one place the server reads its settings. Every setting comes from the
 * environment and is checked once, at start: a bad value stops the process
 * with a message naming the variable, before any port is opened. Each
 * variable is declared, with its range, default and description, in
 * server/config/settings.ts; docs/configuration.md is generated from there.
 */

import { isIP, isIPv4 } from "node:net";
import { availableParallelism } from "node:os";
import { allowedHosts } from "./allowed-hosts.js";
import { ConfigError, type Env, EnvReader } from "./config/env-reader.js";
import { defaultMetricsHosts, defaultServiceName, loopbackHosts, settings } from "./config/settings.js";
import { secretRule, secretWeakness } from "./secret-strength.js";
import { trustedProxies } from "./trusted-proxies.js";

export interface Config {
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number;
  /**
   * Addresses to bind, each with the same port. Loopback (127.0.0.1 and ::1)
   * unless HOST says otherwise, like every development server: nothing
   * outside this machine can reach a server that has no authentication yet.
   */
  readonly hosts: readonly string[];
  /** PEM certificate and key paths; when set, the port speaks TLS only. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Largest accepted message, per message (also per streamed message). */
  readonly readMaxBytes: number;
  /** Request data held for bodies still arriving, and how long a body may take (transport/upload-budget.ts). */
  readonly uploads: UploadLimits;
  /**
   * Responses (and streamed messages) at least this large are compressed when
   * the client accepts gzip or br; smaller ones are not worth the CPU.
   */
  readonly compressMinBytes: number;
  /** Largest deadline a client may ask for; longer ones get INVALID_ARGUMENT. */
  readonly maxTimeoutMs: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS announced to each client. */
  readonly http2MaxConcurrentStreams: number;
  /** A connection with no open call is closed after this long. */
  readonly idleTimeoutMs: number;
  /** Time a new connection has to send its preface or request headers. */
  readonly headersTimeoutMs: number;
  /** Time in-flight calls get to finish after SIGTERM/SIGINT. */
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
  /** "pretty" for people at a terminal, "json" for log collectors. */
  readonly logFormat: "pretty" | "json";
  /**
   * Origins (like "https://app.example.com") whose pages may call the API from
   * a browser, or ["*"] for any. Empty: only the page this server serves.
   */
  readonly allowedOrigins: readonly string[];
  /**
   * Host names (and "*.example.com" wildcards, or "*") that a request's Host
   * or :authority may name besides loopback names and IP addresses, which
   * are always accepted; any other name gets 421 (DNS rebinding, see
   * server/transport/allowed-hosts.ts).
   */
  readonly allowedHosts: readonly string[];
  /** Where movies and orders are stored. */
  readonly database: DatabaseConfig;
  /** Changes a WatchOrders stream may fall behind by before it is ended. */
  readonly watchBufferLimit: number;
  /** Connections open at once, every client together; more are closed as they arrive. */
  readonly maxConnections: number;
  /** Connections open at once from one client IP address; more from it are closed as they arrive. */
  readonly maxConnectionsPerAddress: number;
  /**
   * Streams an HTTP/2 client may reset (RST_STREAM) per second, on average,
   * before its connection is closed with GOAWAY(ENHANCE_YOUR_CALM): the
   * defence against "rapid reset" floods (CVE-2023-44487).
   */
  readonly http2MaxResetsPerSecond: number;
  /**
   * Largest request header section: HTTP/1.1 answers 431 beyond it, and so
   * does HTTP/2 (counted as in SETTINGS_MAX_HEADER_LIST_SIZE: name, value and
   * 32 bytes per field).
   */
  readonly maxHeaderBytes: number;
  /**
   * After a connection is closed for flooding (rapid reset), new connections
   * from its IP address are refused for this long; 0 turns it off.
   */
  readonly abuseCooldownMs: number;
  /** Who may call what: bearer tokens and the scopes that allow changes. */
  readonly auth: AuthConfig;
  /** Calls per window for each caller (principal, or address when anonymous). */
  readonly rateLimit: RateLimitConfig;
  /** Caps on the streaming calls open at once, their messages, and how long a watch lives. */
  readonly streamLimits: StreamLimitsConfig;
  /** Whether grpc.reflection describes the API to anyone who asks. */
  readonly reflection: boolean;
  /**
   * Unary calls in the common forms of each protocol are served by the
   * server's own fast path on Node's core HTTP APIs instead of connect-node's
   * generic pipeline: same interceptors, implementations and answers, a
   * fraction of the CPU. Off sends every request through connect-node.
   */
  readonly fastPath: boolean;
  /**
   * How V8's heap grows (see server/heap-profile.ts): "small" holds the
   * young generation to 8 MiB semi-spaces, compiles optimized code on the
   * main thread and gives memory back once idle; "fast" leaves V8's defaults. Small is the default with
   * the embedded database, fast with PostgreSQL.
   */
  readonly heapProfile: "small" | "fast";
  /** Prometheus metrics at GET /metrics (see server/observability/). */
  readonly metrics: MetricsConfig;
  /** OpenTelemetry traces, configured by the standard OTEL_* variables; undefined while tracing is off. */
  readonly tracing: TracingConfig | undefined;
  /**
   * Proxies (addresses, CIDR blocks) whose X-Forwarded-For is believed: a
   * call from one of them is counted (logs, rate limits) as coming from the
   * right-most untrusted address it forwarded. Empty: X-Forwarded-For is
   * ignored and the TCP peer is the client.
   */
  readonly trustProxy: readonly string[];
  /** HTTP/2 PING sent this often on every connection to find dead peers; 0 turns it off. */
  readonly http2KeepaliveMs: number;
  /** A connection whose peer does not answer a PING within this long is closed. */
  readonly http2KeepaliveTimeoutMs: number;
  /**
   * Connections older than this (±10%) are asked to go (GOAWAY, or
   * `Connection: close`), so clients reconnect and spread over replicas;
   * 0: connections live as long as they are used.
   */
  readonly maxConnectionAgeMs: number;
  /** After MAX_CONNECTION_AGE_MS asked a connection to go, calls still running on it get this long before it is closed. */
  readonly maxConnectionAgeGraceMs: number;
  /** TCP keepalive on every accepted socket: first probe after this much silence; 0 turns it off. */
  readonly tcpKeepaliveMs: number;
  /**
   * Server processes on the one port (node:cluster); 1 runs the server in
   * this process. More than one needs DATABASE_URL: the embedded database
   * belongs to one process.
   */
  readonly workers: number;
}

/** Where /metrics is served, if at all. */
export interface MetricsConfig {
  /** METRICS=off turns off every metric and the endpoint. */
  readonly enabled: boolean;
  /** A port of its own for /metrics, so it can stay private; undefined: served on PORT beside the API. */
  readonly port: number | undefined;
  /**
   * The addresses the metrics port binds (METRICS_HOST, else 127.0.0.1:
   * only this machine, a Prometheus agent beside the server); unused without `port`.
   */
  readonly hosts: readonly string[];
}

/**
 * Tracing, read from the variables every OpenTelemetry SDK reads (see
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/),
 * only the ones that apply to traces exported as OTLP over HTTP/protobuf.
 */
export interface TracingConfig {
  /** OTEL_TRACES_EXPORTER: "otlp" (the default once an endpoint is set) and/or "console" (spans printed, for debugging). */
  readonly exporters: readonly ("otlp" | "console")[];
  readonly otlp: {
    /** The full URL spans are POSTed to: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces". */
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
    readonly compression: "gzip" | "none";
  };
  /** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. */
  readonly sampler: {
    /** Follow the caller's sampling decision when a request carries one (the "parentbased_" samplers). */
    readonly parentBased: boolean;
    /** The share of new traces (those without a sampled parent) that are recorded: 1 always, 0 never. */
    readonly ratio: number;
  };
  /** OTEL_PROPAGATORS: how trace context is read from requests. */
  readonly propagators: readonly ("tracecontext" | "baggage")[];
  /** OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else "connect-polyglot-server". */
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES: key=value pairs describing this process (deployment.environment.name=prod, ...). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** OTEL_BSP_*: how finished spans are batched for export. */
  readonly batch: {
    readonly scheduledDelayMs: number;
    readonly exportTimeoutMs: number;
    readonly maxQueueSize: number;
    readonly maxExportBatchSize: number;
  };
}

/**
 * Embedded SQLite in a folder of this machine (the default: nothing to
 * install), or a PostgreSQL server that several replicas can share.
 */
export type DatabaseConfig =
  | {
      readonly engine: "sqlite";
      /** The folder of the database file (server.db), or memory:// for a database that ends with the process. */
      readonly dataDir: string;
      /**
       * SQLite's synchronous setting in WAL mode: "full" syncs the WAL at
       * every commit, so an acknowledged write survives a power cut; "normal"
       * syncs at checkpoints only, so the last commits may be lost to a power
       * cut (never to a crash of the process), for fewer disk syncs.
       */
      readonly synchronous: "full" | "normal";
    }
  | {
      readonly engine: "postgres";
      readonly url: string;
      readonly poolSize: number;
      /** How long the server keeps retrying at start while the database is unreachable. */
      readonly startupTimeoutMs: number;
    };

/**
 * Bearer-token authentication, or none. "off" is the default only while every
 * bound address is loopback; elsewhere it must be chosen with AUTH_MODE=off.
 */
export type AuthConfig =
  | {
      readonly mode: "off";
      /** True when AUTH_MODE=off chose it (a warning at start); false for the loopback default. */
      readonly explicit: boolean;
    }
  | {
      readonly mode: "jwt";
      readonly keys: JwtKeys;
      /** Required `iss` claim, when set. */
      readonly issuer: string | undefined;
      /**
       * Accepted `aud` values; empty means the audience is not checked, which
       * is allowed only with a shared secret on a loopback-only server.
       */
      readonly audience: readonly string[];
      /** Longest a token may live (`exp` - `iat`, or `exp` - now without `iat`); longer ones are refused. */
      readonly maxTokenTtlMs: number;
      /** Reads need a valid token too (any scope); otherwise only changes do. */
      readonly requireForReads: boolean;
    };

/** Where the keys that sign tokens come from: a shared HS256 secret, or an identity provider's JWKS. */
export type JwtKeys =
  | { readonly kind: "secret"; readonly secret: string }
  | {
      readonly kind: "jwks";
      readonly url: string;
      /** How long a fetched key set is used before it is fetched again. */
      readonly cacheMaxAgeMs: number;
      /** After a token names an unknown key, how long before the key set may be fetched again (rotation). */
      readonly cooldownMs: number;
    };

/** Budgets per caller and window; 0 turns a budget off (the default on a loopback-only server without authentication). */
export interface RateLimitConfig {
  readonly windowMs: number;
  /** Calls that change data (Create/Update/Delete). */
  readonly writes: number;
  /** Every other call, except health checks. */
  readonly reads: number;
  /**
   * Failed authentications (a token or authorization header that is refused)
   * per client address; once spent, that address's calls carrying a token are
   * refused before the token is checked. On whenever authentication is.
   */
  readonly authFailures: number;
}

/**
 * Long-lived calls cost memory for as long as they are open, and a call
 * budget counts them once: these caps bound what one caller or connection
 * can hold. Counted per process (each replica counts its own).
 */
export interface StreamLimitsConfig {
  /** Streaming calls (client, server, bidi) one caller (principal, or address when anonymous) may have open at once. */
  readonly perCaller: number;
  /** Streaming calls one connection (HTTP/2 session, HTTP/1.1 socket) may have open at once; at most HTTP2_MAX_CONCURRENT_STREAMS. */
  readonly perConnection: number;
  /** Messages a client may send in one client or bidi stream. */
  readonly maxMessages: number;
  /** A watch (WatchOrders, Health.Watch) is ended with UNAVAILABLE after this long (±10%), and its client reopens it. */
  readonly maxWatchMs: number;
}

// The rest of the tree imports everything about settings from this module.
export { ConfigError, defaultMetricsHosts, defaultServiceName, loopbackHosts };

export type LogLevel = (typeof settings.LOG_LEVEL.values)[number];

export function loadConfig(env: Env = process.env, stdoutIsTTY = Boolean(process.stdout.isTTY)): Config {
  const read = new EnvReader(env);
  const certFile = read.string("TLS_CERT");
  const keyFile = read.string("TLS_KEY");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError("TLS_CERT and TLS_KEY must be set together (paths to PEM files), or neither");
  }
  const hosts = hostsToBind(read);
  const auth = authConfig(read, hosts);
  const database = databaseConfig(read);
  const workers = workersConfig(read, database);
  return {
    port: read.integer("PORT"),
    hosts,
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : undefined,
    readMaxBytes: read.integer("READ_MAX_BYTES"),
    uploads: uploadLimitsConfig(read),
    compressMinBytes: read.integer("COMPRESS_MIN_BYTES"),
    maxTimeoutMs: read.integer("MAX_TIMEOUT_MS"),
    http2MaxConcurrentStreams: read.integer("HTTP2_MAX_CONCURRENT_STREAMS"),
    idleTimeoutMs: read.integer("IDLE_TIMEOUT_MS"),
    headersTimeoutMs: read.integer("HEADERS_TIMEOUT_MS"),
    shutdownGraceMs: read.integer("SHUTDOWN_GRACE_MS"),
    logLevel: read.oneOf("LOG_LEVEL"),
    logFormat: read.oneOf("LOG_FORMAT", stdoutIsTTY ? "pretty" : "json"),
    allowedOrigins: read.origins("ALLOWED_ORIGINS"),
    allowedHosts: allowedHostsConfig(read),
    database,
    watchBufferLimit: read.integer("WATCH_BUFFER_LIMIT"),
    maxConnections: read.integer("MAX_CONNECTIONS"),
    maxConnectionsPerAddress: read.integer("MAX_CONNECTIONS_PER_ADDRESS"),
    http2MaxResetsPerSecond: read.integer("HTTP2_MAX_RESETS_PER_SECOND"),
    maxHeaderBytes: read.integer("MAX_HEADER_BYTES"),
    abuseCooldownMs: read.integer("ABUSE_COOLDOWN_MS"),
    auth,
    rateLimit: rateLimitConfig(read, auth),
    streamLimits: streamLimitsConfig(read),
    reflection: read.oneOf("REFLECTION") === "on",
    fastPath: read.oneOf("FAST_PATH") === "on",
    heapProfile: read.oneOf("HEAP_PROFILE", database.engine === "sqlite" ? "small" : "fast"),
    metrics: metricsConfig(read),
    tracing: tracingConfig(read),
    trustProxy: trustProxyConfig(read),
    http2KeepaliveMs: read.integer("HTTP2_KEEPALIVE_MS"),
    http2KeepaliveTimeoutMs: read.integer("HTTP2_KEEPALIVE_TIMEOUT_MS"),
    maxConnectionAgeMs: read.integer("MAX_CONNECTION_AGE_MS"),
    maxConnectionAgeGraceMs: read.integer("MAX_CONNECTION_AGE_GRACE_MS"),
    tcpKeepaliveMs: read.integer("TCP_KEEPALIVE_MS"),
    workers,
  };
}

/**
 * WORKERS: a number, or "auto" for the cores this process may use. The
 * embedded database is refused with several workers rather than shared:
 * one process owns its folder (the data folder lock), and order changes
 * reach watchers in that process only. Several processes want PostgreSQL.
 */
function workersConfig(read: EnvReader, database: DatabaseConfig): number {
  const raw = read.string("WORKERS");
  const workers = raw?.toLowerCase() === "auto" ? availableParallelism() : read.integer("WORKERS");
  if (workers > 1 && database.engine === "sqlite") {
    throw new ConfigError(
      `WORKERS=${raw} needs DATABASE_URL: the embedded database (DATA_DIR) can be opened by one process only; use PostgreSQL or WORKERS=1`,
    );
  }
  return workers;
}

function allowedHostsConfig(read: EnvReader): readonly string[] {
  const entries = read.list("ALLOWED_HOSTS") ?? [];
  try {
    allowedHosts(entries);
  } catch (error) {
    throw new ConfigError(`ALLOWED_HOSTS: ${(error as Error).message}`);
  }
  return entries;
}

function trustProxyConfig(read: EnvReader): readonly string[] {
  const entries = read.list("TRUST_PROXY") ?? [];
  try {
    trustedProxies(entries);
  } catch (error) {
    throw new ConfigError(`TRUST_PROXY: ${(error as Error).message}`);
  }
  return entries;
}

function metricsConfig(read: EnvReader): MetricsConfig {
  const enabled = read.oneOf("METRICS") === "on";
  const port = read.optionalInteger("METRICS_PORT");
  const metricsHosts = read.list("METRICS_HOST") ?? settings.METRICS_HOST.default;
  if (port !== undefined && port !== 0 && port === read.integer("PORT")) {
    throw new ConfigError(`METRICS_PORT must differ from PORT (${port}): unset it to serve /metrics on PORT`);
  }
  if (read.string("METRICS_HOST") !== undefined && port === undefined) {
    throw new ConfigError("METRICS_HOST is set but METRICS_PORT is not: /metrics is served on PORT unless METRICS_PORT is set");
  }
  for (const host of metricsHosts) checkHost("METRICS_HOST", host);
  return { enabled, port: enabled ? port : undefined, hosts: metricsHosts };
}

/**
 * Tracing is off (nothing loaded, nothing measured) unless an OTLP endpoint
 * or OTEL_TRACES_EXPORTER is set; OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none turns it off whatever else is set.
 */
function tracingConfig(read: EnvReader): TracingConfig | undefined {
  const disabled = read.boolean("OTEL_SDK_DISABLED");
  const exporterList = read.list("OTEL_TRACES_EXPORTER")?.map((name) => name.toLowerCase());
  const tracesEndpoint = read.string("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const endpoint = read.string("OTEL_EXPORTER_OTLP_ENDPOINT");
  for (const name of exporterList ?? []) {
    if (!["otlp", "console", "none"].includes(name)) {
      throw new ConfigError(`OTEL_TRACES_EXPORTER must list otlp, console or none, got "${name}"`);
    }
  }
  if (disabled || exporterList?.includes("none")) return undefined;
  if (exporterList === undefined && tracesEndpoint === undefined && endpoint === undefined) return undefined;
  const exporters = (exporterList ?? ["otlp"]) as ("otlp" | "console")[];

  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] as const) {
    const protocol = read.string(name);
    if (protocol !== undefined && protocol !== "http/protobuf") {
      throw new ConfigError(`${name}: this server exports traces as OTLP over HTTP with protobuf only; set http/protobuf or unset it`);
    }
  }
  const url = tracesEndpoint ?? `${(endpoint ?? settings.OTEL_EXPORTER_OTLP_ENDPOINT.default).replace(/\/+$/, "")}/v1/traces`;
  const urlVariable = tracesEndpoint !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new ConfigError(`${urlVariable} must be an http:// or https:// URL, got "${tracesEndpoint ?? endpoint}"`);
  }
  const timeoutVariable =
    read.string("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT" : "OTEL_EXPORTER_OTLP_TIMEOUT";
  const compressionVariable =
    read.string("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION") !== undefined
      ? "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"
      : "OTEL_EXPORTER_OTLP_COMPRESSION";

  const samplerName = read.oneOf("OTEL_TRACES_SAMPLER");
  const samplerArg = read.string("OTEL_TRACES_SAMPLER_ARG");
  let ratio = samplerName.endsWith("always_off") ? 0 : 1;
  if (samplerName.endsWith("traceidratio") && samplerArg !== undefined) {
    ratio = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(samplerArg) ? Number(samplerArg) : NaN;
    if (Number.isNaN(ratio)) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${samplerArg}"`);
  }

  const propagators = (read.list("OTEL_PROPAGATORS") ?? settings.OTEL_PROPAGATORS.default).map((name) => name.toLowerCase());
  for (const name of propagators) {
    if (!["tracecontext", "baggage", "none"].includes(name)) {
      throw new ConfigError(`OTEL_PROPAGATORS: "${name}" is not supported; use tracecontext, baggage or none`);
    }
  }
  const resourceAttributes = keyValueList(read, "OTEL_RESOURCE_ATTRIBUTES");
  return {
    exporters,
    otlp: {
      url,
      headers: { ...keyValueList(read, "OTEL_EXPORTER_OTLP_HEADERS"), ...keyValueList(read, "OTEL_EXPORTER_OTLP_TRACES_HEADERS") },
      timeoutMs: read.integer(timeoutVariable),
      compression: read.oneOf(compressionVariable),
    },
    sampler: { parentBased: samplerName.startsWith("parentbased_"), ratio },
    propagators: propagators.filter((name): name is "tracecontext" | "baggage" => name !== "none"),
    serviceName: read.string("OTEL_SERVICE_NAME") ?? resourceAttributes["service.name"] ?? settings.OTEL_SERVICE_NAME.default,
    resourceAttributes,
    batch: {
      scheduledDelayMs: read.integer("OTEL_BSP_SCHEDULE_DELAY"),
      exportTimeoutMs: read.integer("OTEL_BSP_EXPORT_TIMEOUT"),
      maxQueueSize: read.integer("OTEL_BSP_MAX_QUEUE_SIZE"),
      maxExportBatchSize: Math.min(read.integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), read.integer("OTEL_BSP_MAX_QUEUE_SIZE")),
    },
  };
}

/** "key1=value1,key2=value2", values percent-decoded, as OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS are written. */
function keyValueList(
  read: EnvReader,
  name: "OTEL_RESOURCE_ATTRIBUTES" | "OTEL_EXPORTER_OTLP_HEADERS" | "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const entry of read.list(name) ?? []) {
    const equals = entry.indexOf("=");
    const key = entry.slice(0, equals).trim();
    let value: string | undefined;
    try {
      value = equals > 0 ? decodeURIComponent(entry.slice(equals + 1).trim()) : undefined;
    } catch {
      value = undefined;
    }
    if (key === "" || value === undefined) throw new ConfigError(`${name}: "${entry}" is not key=value (values percent-encoded)`);
    entries[key] = value;
  }
  return entries;
}

function databaseConfig(read: EnvReader): DatabaseConfig {
  const url = read.string("DATABASE_URL");
  if (url === undefined) {
    return {
      engine: "sqlite",
      dataDir: read.string("DATA_DIR") ?? settings.DATA_DIR.default,
      synchronous: read.oneOf("SQLITE_SYNCHRONOUS"),
    };
  }
  if (!/^postgres(ql)?:\/\/./.test(url)) {
    throw new ConfigError(`DATABASE_URL must be a postgres:// or postgresql:// URL, got "${redactPassword(url)}"`);
  }
  return {
    engine: "postgres",
    url,
    poolSize: read.integer("DATABASE_POOL_SIZE"),
    startupTimeoutMs: read.integer("DATABASE_STARTUP_TIMEOUT_MS"),
  };
}

/** HOST: addresses or host names, comma-separated; "::" alone is every interface, IPv4 included. */
function hostsToBind(read: EnvReader): readonly string[] {
  const hosts = read.list("HOST") ?? settings.HOST.default;
  for (const host of hosts) checkHost("HOST", host);
  return hosts;
}

function checkHost(name: string, host: string): void {
  if (isIP(host) === 0 && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host)) {
    throw new ConfigError(`${name}: "${host}" is not an IP address or host name; e.g. 127.0.0.1, ::1, 0.0.0.0 or ::`);
  }
}

function authConfig(read: EnvReader, hosts: readonly string[]): AuthConfig {
  const secret = read.string("AUTH_JWT_SECRET");
  const jwksUrl = read.string("AUTH_JWKS_URL");
  const mode = read.optionalOneOf("AUTH_MODE");
  const issuer = read.string("AUTH_ISSUER");
  const audience = read.list("AUTH_AUDIENCE") ?? [];
  const requireForReads = read.boolean("AUTH_REQUIRE_FOR_READS");
  const keySource = secret !== undefined ? "AUTH_JWT_SECRET" : jwksUrl !== undefined ? "AUTH_JWKS_URL" : undefined;
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new ConfigError("AUTH_JWT_SECRET and AUTH_JWKS_URL are both set: choose one source of signing keys");
  }
  if (keySource === undefined || mode === "off") {
    if (mode === "off" && keySource !== undefined) {
      throw new ConfigError(`AUTH_MODE=off contradicts ${keySource}: unset one of them`);
    }
    if (mode === "jwt") throw new ConfigError("AUTH_MODE=jwt needs AUTH_JWT_SECRET or AUTH_JWKS_URL");
    const orphan = [issuer && "AUTH_ISSUER", audience.length > 0 && "AUTH_AUDIENCE", requireForReads && "AUTH_REQUIRE_FOR_READS"].find(
      Boolean,
    );
    if (orphan) throw new ConfigError(`${orphan} is set but authentication is off: set AUTH_JWT_SECRET or AUTH_JWKS_URL too`);
    if (mode === undefined && !hosts.every(isLoopbackHost)) {
      throw new ConfigError(
        `HOST=${hosts.join(",")} can be reached from other machines and no authentication is configured: ` +
          "set AUTH_JWT_SECRET (32+ random bytes) or AUTH_JWKS_URL (your identity provider's key set), or AUTH_MODE=off to serve anyway",
      );
    }
    return { mode: "off", explicit: mode === "off" };
  }
  const keys = jwtKeys(read, secret, jwksUrl);
  // Without an audience, any token the same keys signed for another
  // application is accepted here: an identity provider signs for all of its
  // applications, and a secret may be shared with other services.
  if (audience.length === 0 && jwksUrl !== undefined) {
    throw new ConfigError(
      "AUTH_AUDIENCE must be set when tokens come from AUTH_JWKS_URL: your identity provider signs tokens for every application " +
        "it serves, and without an audience this server would accept them all; set it to this API's identifier (the `aud` its tokens carry)",
    );
  }
  if (audience.length === 0 && !hosts.every(isLoopbackHost)) {
    throw new ConfigError(
      `AUTH_AUDIENCE must be set when HOST=${hosts.join(",")} can be reached from other machines and tokens are signed with AUTH_JWT_SECRET: ` +
        "set it to this API's name and mint tokens with that `aud` (npm run token uses AUTH_AUDIENCE)",
    );
  }
  const maxTokenTtlMs = read.integer("AUTH_MAX_TOKEN_TTL_MS");
  return { mode: "jwt", keys, issuer, audience, maxTokenTtlMs, requireForReads };
}

function jwtKeys(read: EnvReader, secret: string | undefined, jwksUrl: string | undefined): JwtKeys {
  if (secret !== undefined) {
    const weakness = secretWeakness(secret);
    if (weakness !== undefined) throw new ConfigError(`AUTH_JWT_SECRET is too weak (${weakness}): it must be ${secretRule}`);
    return { kind: "secret", secret };
  }
  const url = jwksUrl ?? "";
  // Keys fetched in clear text could be swapped on the way: plain http only to this machine.
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed === undefined || !(parsed.protocol === "https:" || (parsed.protocol === "http:" && isLoopbackHost(parsed.hostname)))) {
    throw new ConfigError(`AUTH_JWKS_URL must be an https:// URL (http:// only on loopback), got "${url}"`);
  }
  return {
    kind: "jwks",
    url,
    cacheMaxAgeMs: read.integer("AUTH_JWKS_CACHE_MS"),
    cooldownMs: read.integer("AUTH_JWKS_COOLDOWN_MS"),
  };
}

/**
 * Budgets protect a server others can reach. One that only this machine can
 * reach and that has no authentication is a developer's own (the quick
 * start, tests, benchmarks): no budgets there unless asked for. The budget
 * of failed authentications is on wherever tokens are checked, loopback
 * included: guessing tokens must never be free.
 */
function rateLimitConfig(read: EnvReader, auth: AuthConfig): RateLimitConfig {
  const local = auth.mode === "off" && !auth.explicit;
  return {
    windowMs: read.integer("RATE_LIMIT_WINDOW_MS"),
    writes: read.integer("RATE_LIMIT_WRITES", local ? 0 : undefined),
    reads: read.integer("RATE_LIMIT_READS", local ? 0 : undefined),
    // With authentication off there is nothing to fail.
    authFailures: auth.mode === "jwt" ? read.integer("RATE_LIMIT_AUTH_FAILURES") : 0,
  };
}

/**
 * On everywhere, loopback included: an honest client holds a handful of
 * streams, far below the caps. The per-connection cap defaults to at most
 * HTTP/2's own stream limit, and may not exceed it (it could never apply).
 */
/** How much unfinished request data the server holds, and for how long (transport/upload-budget.ts). */
export interface UploadLimits {
  /** Bytes of request bodies still arriving, held at once across every connection. */
  readonly totalBytes: number;
  /** The same, on one connection (an HTTP/2 session or an HTTP/1.1 socket). */
  readonly perConnectionBytes: number;
  /** The same, from one client address (the peer's), all its connections together. */
  readonly perAddressBytes: number;
  /** A request body must have arrived whole within this of its call's start. */
  readonly timeoutMs: number;
}

/** The upload budget: one message of the largest size must fit on a connection, a connection's share in an address's, and that in the whole. */
function uploadLimitsConfig(read: EnvReader): UploadLimits {
  const readMaxBytes = read.integer("READ_MAX_BYTES");
  const totalBytes = read.integer("UPLOAD_BUFFER_BYTES");
  const perConnectionBytes = read.integer("UPLOAD_BUFFER_BYTES_PER_CONNECTION");
  if (perConnectionBytes < readMaxBytes + 65_536) {
    throw new ConfigError(
      `UPLOAD_BUFFER_BYTES_PER_CONNECTION=${perConnectionBytes} is less than READ_MAX_BYTES=${readMaxBytes} plus 64 KiB, so a message of the largest size could never arrive: raise it or lower READ_MAX_BYTES`,
    );
  }
  const perAddressBytes = read.integer("UPLOAD_BUFFER_BYTES_PER_ADDRESS");
  if (perAddressBytes < perConnectionBytes) {
    throw new ConfigError(
      `UPLOAD_BUFFER_BYTES_PER_ADDRESS=${perAddressBytes} is less than UPLOAD_BUFFER_BYTES_PER_CONNECTION=${perConnectionBytes}: raise it or lower the share of one connection`,
    );
  }
  if (totalBytes < perAddressBytes) {
    throw new ConfigError(
      `UPLOAD_BUFFER_BYTES=${totalBytes} is less than UPLOAD_BUFFER_BYTES_PER_ADDRESS=${perAddressBytes}: raise it or lower the share of one address`,
    );
  }
  return { totalBytes, perConnectionBytes, perAddressBytes, timeoutMs: read.integer("UPLOAD_TIMEOUT_MS") };
}

function streamLimitsConfig(read: EnvReader): StreamLimitsConfig {
  const http2Streams = read.integer("HTTP2_MAX_CONCURRENT_STREAMS");
  const perConnection = read.integer("MAX_STREAMS_PER_CONNECTION", Math.min(settings.MAX_STREAMS_PER_CONNECTION.default, http2Streams));
  if (perConnection > http2Streams) {
    throw new ConfigError(
      `MAX_STREAMS_PER_CONNECTION=${perConnection} is more than HTTP2_MAX_CONCURRENT_STREAMS=${http2Streams}, so it could never apply: lower it or raise HTTP2_MAX_CONCURRENT_STREAMS`,
    );
  }
  return {
    perCaller: read.integer("MAX_STREAMS_PER_CALLER"),
    perConnection,
    maxMessages: read.integer("MAX_STREAM_MESSAGES"),
    maxWatchMs: read.integer("MAX_WATCH_MS"),
  };
}

/**
 * True for addresses only this machine can reach: 127.0.0.0/8, ::1 (also
 * IPv4-mapped) and "localhost". Any other name may resolve to anything.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
  const v4 = bare.replace(/^::ffff:/, "");
  return isIPv4(v4) && v4.startsWith("127.");
}

/** The URL with its password (if any) hidden, fit for messages and logs. */
export function redactPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, "$1***@");
}
