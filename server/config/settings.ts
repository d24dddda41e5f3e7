/**
 * Every environment variable the server reads, declared once: its name,
 * what it accepts, its default and what it does. loadConfig reads through
 * these declarations (server/config/env-reader.ts accepts no other name), and
 * docs/configuration.md is generated from them (`npm run docs:config`), so
 * the range and default a server uses are the ones its documentation shows.
 *
 * Descriptions are Markdown, written for the table cell they end up in.
 */

/** Topics, in the order the documentation lists them. */
export const settingGroups = {
  listener: {
    title: "Listener",
    about: "Where the server listens and whom it answers.",
    page: { title: "Security", href: "security.md" },
  },
  tls: {
    title: "TLS",
    about: "Without both, the port speaks cleartext (h2c and HTTP/1.1).",
    page: { title: "Security: TLS", href: "security.md#tls" },
  },
  limits: {
    title: "Messages and connections",
    about: "Bounds on what one client may send or hold; what a client sees past each one is in the topic page.",
    page: { title: "Reliability and limits", href: "reliability.md#connections-and-http" },
  },
  lifetime: {
    title: "Connection lifetime",
    about: "How long connections live, and how dead peers are found.",
    page: { title: "Scaling out", href: "scaling.md" },
  },
  auth: {
    title: "Authentication",
    about: "Bearer tokens (JWT) and the scopes that allow changes.",
    page: { title: "Security", href: "security.md" },
  },
  rateLimits: {
    title: "Rate limits",
    about: "Budgets per caller (token subject, else client address) and window.",
    page: { title: "Security", href: "security.md" },
  },
  streams: {
    title: "Streams",
    about: "Caps on streaming calls, counted per process (each replica counts its own).",
    page: { title: "Reliability and limits: streams", href: "reliability.md#streams" },
  },
  database: {
    title: "Database",
    about: "Embedded SQLite (the default) or PostgreSQL.",
    page: { title: "Movies and orders: the database", href: "database.md" },
  },
  logs: {
    title: "Logs",
    about: "One line per call, and the server's own events.",
    page: undefined,
  },
  metrics: {
    title: "Metrics",
    about: "Prometheus metrics at `GET /metrics`.",
    page: { title: "Operations: metrics", href: "operations.md#metrics" },
  },
  tracing: {
    title: "Tracing (OpenTelemetry)",
    about:
      "The standard `OTEL_*` variables every OpenTelemetry SDK reads, those that apply to traces exported as OTLP over HTTP/protobuf. " +
      "Tracing is off, and no OpenTelemetry code is loaded, unless `OTEL_EXPORTER_OTLP_ENDPOINT`, " +
      "`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER` is set. " +
      "Each `OTEL_EXPORTER_OTLP_TRACES_*` variable, when set, wins over its `OTEL_EXPORTER_OTLP_*` twin.",
    page: { title: "Operations: traces", href: "operations.md#traces" },
  },
  process: {
    title: "Process",
    about: "How the server runs: worker processes, serving paths, memory, shutdown.",
    page: { title: "Scaling out", href: "scaling.md" },
  },
} as const satisfies Record<string, SettingGroup>;

export interface SettingGroup {
  readonly title: string;
  /** A sentence shown above the group's table. */
  readonly about: string;
  /** The page that explains the topic, linked under the table. */
  readonly page: { readonly title: string; readonly href: string } | undefined;
}

export type GroupName = keyof typeof settingGroups;

interface Common {
  readonly group: GroupName;
  /** What the setting does, for the documentation table (Markdown). */
  readonly description: string;
  /**
   * The default in words, when it depends on other settings or on the
   * machine; the documentation shows it instead of `default`.
   */
  readonly defaultText?: string;
}

/** A whole number in a range; an optional unit documents it. */
export interface IntegerSetting extends Common {
  readonly kind: "integer";
  readonly min: number;
  readonly max: number;
  readonly default?: number;
  readonly unit?: "ms" | "bytes";
  /** Words accepted besides a number (WORKERS=auto). */
  readonly words?: readonly string[];
}

/** One of a few words, compared case-insensitively. */
export interface OneOfSetting extends Common {
  readonly kind: "oneOf";
  readonly values: readonly string[];
  readonly default?: string;
}

/** `true` or `false`. */
export interface BooleanSetting extends Common {
  readonly kind: "boolean";
  readonly default: boolean;
}

/** A comma-separated list; blanks around entries are ignored. */
export interface ListSetting extends Common {
  readonly kind: "list";
  /** What each entry is, in words. */
  readonly accepts: string;
  readonly default?: readonly string[];
}

/** Free text checked by the code that uses it (a path, a URL, a secret). */
export interface TextSetting extends Common {
  readonly kind: "text";
  /** What the value is, in words. */
  readonly accepts: string;
  readonly default?: string;
}

export type Setting = IntegerSetting | OneOfSetting | BooleanSetting | ListSetting | TextSetting;

/** Where the server listens unless HOST says otherwise. */
export const loopbackHosts: readonly string[] = ["127.0.0.1", "::1"];
/** Where METRICS_PORT binds unless METRICS_HOST says: the metrics need no token there, so only this machine. */
export const defaultMetricsHosts: readonly string[] = ["127.0.0.1"];
/** The name traces carry unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise. */
export const defaultServiceName = "connect-polyglot-server";

const day = 24 * 60 * 60_000;

export const settings = {
  // Listener
  PORT: {
    group: "listener",
    kind: "integer",
    min: 0,
    max: 65535,
    default: 8080,
    description: "TCP port for every protocol; `0` picks a free one (logged as `port`)",
  },
  HOST: {
    group: "listener",
    kind: "list",
    accepts: "IP addresses or host names",
    default: loopbackHosts,
    defaultText: "`127.0.0.1,::1` (loopback)",
    description:
      "addresses to bind, each on `PORT`; `::` is every interface (IPv4 too), `0.0.0.0` every IPv4 one. " +
      "Anything but loopback needs authentication, or `AUTH_MODE=off` (see [Security](security.md))",
  },
  ALLOWED_HOSTS: {
    group: "listener",
    kind: "list",
    accepts: "host names, `*.example.com` wildcards, or `*`",
    description:
      "host names a request's `Host` / `:authority` may use besides `localhost`, `*.localhost` and IP addresses (always accepted): " +
      "exact names (`api.example.com`), suffix wildcards (`*.example.com`: names under it, not itself) or `*` for any. " +
      "Others get `421` (the DNS rebinding defence; see [Security](security.md))",
  },
  ALLOWED_ORIGINS: {
    group: "listener",
    kind: "list",
    accepts: "origins (`scheme://host[:port]`), or `*` alone",
    description:
      "origins (e.g. `https://app.example.com`) whose pages may call the API from a browser, or `*` for any; unset, only the page this server serves. " +
      "See [CORS](web-page.md#calling-the-api-from-a-page-on-another-origin-cors)",
  },
  TRUST_PROXY: {
    group: "listener",
    kind: "list",
    accepts: "IP addresses or CIDR blocks",
    description:
      "proxies whose `X-Forwarded-For` is believed: from them, the client (the call log's `client`, rate limits) is the right-most address " +
      "in `X-Forwarded-For` that is not a trusted proxy; everyone else's `X-Forwarded-For` is ignored",
  },

  // TLS
  TLS_CERT: {
    group: "tls",
    kind: "text",
    accepts: "a path to a PEM file",
    description:
      "the certificate (chain); with `TLS_KEY`, the port serves TLS only (gRPC over h2 with ALPN, HTTPS for the rest). Set both or neither",
  },
  TLS_KEY: {
    group: "tls",
    kind: "text",
    accepts: "a path to a PEM file",
    description: "the certificate's private key; set together with `TLS_CERT`",
  },

  // Messages and connections
  READ_MAX_BYTES: {
    group: "limits",
    kind: "integer",
    unit: "bytes",
    min: 1024,
    max: 0xffffffff,
    default: 4 * 1024 * 1024,
    description: "largest request message (also per streamed message); bigger ones get RESOURCE_EXHAUSTED",
  },
  UPLOAD_BUFFER_BYTES: {
    group: "limits",
    kind: "integer",
    unit: "bytes",
    min: 1024,
    max: 0xffffffff,
    default: 64 * 1024 * 1024,
    description:
      "request data the server holds at once for bodies still arriving, on all connections; a call that would go over gets RESOURCE_EXHAUSTED",
  },
  UPLOAD_BUFFER_BYTES_PER_CONNECTION: {
    group: "limits",
    kind: "integer",
    unit: "bytes",
    min: 1024,
    max: 0xffffffff,
    default: 8 * 1024 * 1024,
    description:
      "the same on one connection (at least READ_MAX_BYTES + 64 KiB): several calls' unfinished bodies on one connection share it",
  },
  UPLOAD_BUFFER_BYTES_PER_ADDRESS: {
    group: "limits",
    kind: "integer",
    unit: "bytes",
    min: 1024,
    max: 0xffffffff,
    default: 16 * 1024 * 1024,
    description:
      "the same for one client address, all its connections together (at least UPLOAD_BUFFER_BYTES_PER_CONNECTION, at most UPLOAD_BUFFER_BYTES); behind a proxy, the proxy's address",
  },
  UPLOAD_TIMEOUT_MS: {
    group: "limits",
    kind: "integer",
    unit: "ms",
    min: 1000,
    max: 60 * 60_000,
    default: 30_000,
    description:
      "a request's body (for client and bidi streams, each message once begun) must have arrived whole within this, else DEADLINE_EXCEEDED",
  },
  COMPRESS_MIN_BYTES: {
    group: "limits",
    kind: "integer",
    unit: "bytes",
    min: 0,
    max: 0xffffffff,
    default: 1024,
    description: "answers and streamed messages at least this large are compressed (gzip or br) when the client accepts it",
  },
  MAX_TIMEOUT_MS: {
    group: "limits",
    kind: "integer",
    unit: "ms",
    min: 1,
    max: day,
    default: 5 * 60_000,
    description: "longest deadline a client may ask for; longer ones get INVALID_ARGUMENT",
  },
  HTTP2_MAX_CONCURRENT_STREAMS: {
    group: "limits",
    kind: "integer",
    min: 1,
    max: 0xffffffff,
    default: 250,
    description: "concurrent calls per HTTP/2 connection (`SETTINGS_MAX_CONCURRENT_STREAMS`)",
  },
  IDLE_TIMEOUT_MS: {
    group: "limits",
    kind: "integer",
    unit: "ms",
    min: 1_000,
    max: day,
    default: 120_000,
    description: "a connection with no call in progress is closed after this long",
  },
  HEADERS_TIMEOUT_MS: {
    group: "limits",
    kind: "integer",
    unit: "ms",
    min: 100,
    max: 10 * 60_000,
    default: 10_000,
    description: "a new connection must send its first request (or TLS handshake) within this",
  },
  MAX_HEADER_BYTES: {
    group: "limits",
    kind: "integer",
    unit: "bytes",
    min: 1024,
    max: 1024 * 1024,
    default: 16 * 1024,
    description:
      "largest request header section; larger ones get `431` (HTTP/1.1 and HTTP/2, counted on HTTP/2 as in " +
      "`SETTINGS_MAX_HEADER_LIST_SIZE`: name, value and 32 bytes per field)",
  },
  MAX_CONNECTIONS: {
    group: "limits",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 10_000,
    description: "connections open at once, all clients together; more are closed as they arrive",
  },
  MAX_CONNECTIONS_PER_ADDRESS: {
    group: "limits",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 1_000,
    description:
      "connections open at once from one client IP address; more from it are closed as they arrive. Raise it behind a proxy or NAT that shares one address",
  },
  HTTP2_MAX_RESETS_PER_SECOND: {
    group: "limits",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 200,
    description:
      "stream resets an HTTP/2 client may send per second (bursts up to `HTTP2_MAX_CONCURRENT_STREAMS`) before its connection is closed " +
      "with `GOAWAY(ENHANCE_YOUR_CALM)`: the defence against rapid-reset floods (CVE-2023-44487)",
  },
  ABUSE_COOLDOWN_MS: {
    group: "limits",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: 60 * 60_000,
    default: 10_000,
    description:
      "after a connection is closed for a reset flood, new connections from its address are refused for this long; `0` turns it off",
  },

  // Connection lifetime
  HTTP2_KEEPALIVE_MS: {
    group: "lifetime",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: day,
    default: 60_000,
    description: "HTTP/2 PING interval on every connection, to find dead peers; `0` turns it off",
  },
  HTTP2_KEEPALIVE_TIMEOUT_MS: {
    group: "lifetime",
    kind: "integer",
    unit: "ms",
    min: 10,
    max: 10 * 60_000,
    default: 20_000,
    description: "a connection whose peer does not answer a PING within this long is closed",
  },
  MAX_CONNECTION_AGE_MS: {
    group: "lifetime",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: 7 * day,
    default: 0,
    defaultText: "`0` (off)",
    description:
      "connections older than this (±10%) are asked to go (GOAWAY, or `Connection: close`) so clients reconnect and spread over replicas, " +
      "like grpc-go's MaxConnectionAge; `0`: connections live as long as they are used",
  },
  MAX_CONNECTION_AGE_GRACE_MS: {
    group: "lifetime",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: day,
    default: 30_000,
    description: "after `MAX_CONNECTION_AGE_MS` asked a connection to go, calls still running on it get this long before it is closed",
  },
  TCP_KEEPALIVE_MS: {
    group: "lifetime",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: day,
    default: 60_000,
    description: "TCP keepalive on every accepted socket (first probe after this much silence); `0` turns it off",
  },

  // Authentication
  AUTH_MODE: {
    group: "auth",
    kind: "oneOf",
    values: ["jwt", "off"],
    defaultText: "automatic",
    description:
      "unset: tokens required once a key source is set, else no authentication (loopback only). " +
      "`off`: no authentication on any `HOST` (warns at start). `jwt`: fail unless a key source is set",
  },
  AUTH_JWT_SECRET: {
    group: "auth",
    kind: "text",
    accepts: "a secret of 32 bytes or more",
    description:
      "shared HS256 secret (`openssl rand -base64 32`): tokens signed with it are accepted. At least 32 bytes, at least 8 different byte values, " +
      "and not a short pattern repeated (`x` × 32 or `abcd` × 8 are refused at start). Not together with `AUTH_JWKS_URL`",
  },
  AUTH_JWKS_URL: {
    group: "auth",
    kind: "text",
    accepts: "an https:// URL (http:// only on loopback)",
    description: "your identity provider's JWKS; RS/PS/ES 256–512 and EdDSA tokens. Not together with `AUTH_JWT_SECRET`",
  },
  AUTH_ISSUER: {
    group: "auth",
    kind: "text",
    accepts: "the issuer's identifier, usually its URL",
    description: "when set, tokens must carry exactly this `iss`",
  },
  AUTH_AUDIENCE: {
    group: "auth",
    kind: "list",
    accepts: "audience names",
    defaultText: "unset; **required** with `AUTH_JWKS_URL`, and with `AUTH_JWT_SECRET` when `HOST` is not loopback only",
    description:
      "a token's `aud` must name one of these. Without it, tokens the same keys signed for any other application would pass, so the server " +
      "refuses to start: `configuration error: AUTH_AUDIENCE must be set when tokens come from AUTH_JWKS_URL: …`. `npm run token` puts it in the tokens it mints",
  },
  AUTH_MAX_TOKEN_TTL_MS: {
    group: "auth",
    kind: "integer",
    unit: "ms",
    min: 1_000,
    max: 366 * day,
    default: day,
    description:
      "longest a token may live: `exp` − `iat` (or `exp` − now without `iat`, or with `iat` in the future), plus the 30 s clock tolerance; " +
      "longer-lived tokens are refused with UNAUTHENTICATED",
  },
  AUTH_REQUIRE_FOR_READS: {
    group: "auth",
    kind: "boolean",
    default: false,
    description: "`true`: every call except health checks needs a valid token (any scope); otherwise only changes do",
  },
  AUTH_JWKS_CACHE_MS: {
    group: "auth",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: day,
    default: 10 * 60_000,
    description: "how long a fetched key set is used before it is fetched again",
  },
  AUTH_JWKS_COOLDOWN_MS: {
    group: "auth",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: day,
    default: 30_000,
    description: "after a token names an unknown key, how long before the key set may be fetched again (key rotation)",
  },

  // Rate limits
  RATE_LIMIT_WINDOW_MS: {
    group: "rateLimits",
    kind: "integer",
    unit: "ms",
    min: 1_000,
    max: day,
    default: 60_000,
    description: "the rate-limit window (all budgets)",
  },
  RATE_LIMIT_WRITES: {
    group: "rateLimits",
    kind: "integer",
    min: 0,
    max: 1_000_000_000,
    default: 600,
    defaultText: "`600`; none on a loopback-only server without auth",
    description: "Create/Update/Delete calls per caller per window, shared by replicas on PostgreSQL; `0`: no limit",
  },
  RATE_LIMIT_READS: {
    group: "rateLimits",
    kind: "integer",
    min: 0,
    max: 1_000_000_000,
    default: 6_000,
    defaultText: "`6000`; none on a loopback-only server without auth",
    description: "other calls per caller per window, counted by each replica; health checks never count; `0`: no limit",
  },
  RATE_LIMIT_AUTH_FAILURES: {
    group: "rateLimits",
    kind: "integer",
    min: 0,
    max: 1_000_000_000,
    default: 60,
    defaultText: "`60` wherever tokens are checked (loopback too, and even with the call budgets at `0`); unused without auth",
    description:
      "failed authentications (a token or `authorization` header refused) per client address per window, shared by replicas on PostgreSQL; " +
      "past it, that address's calls carrying credentials get RESOURCE_EXHAUSTED before the token is checked; `0`: not counted",
  },

  // Streams
  MAX_STREAMS_PER_CALLER: {
    group: "streams",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 100,
    description:
      "streaming calls (client, server and bidi streams, `Health.Watch` included) one caller (token `sub`, else client address) may have open " +
      "at once, per replica; more get RESOURCE_EXHAUSTED. On everywhere, loopback included",
  },
  MAX_STREAMS_PER_CONNECTION: {
    group: "streams",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 100,
    defaultText: "`100` (at most `HTTP2_MAX_CONCURRENT_STREAMS`)",
    description:
      "streaming calls one connection (HTTP/2 session, HTTP/1.1 socket) may have open at once; more get RESOURCE_EXHAUSTED. " +
      "May not exceed `HTTP2_MAX_CONCURRENT_STREAMS`",
  },
  MAX_STREAM_MESSAGES: {
    group: "streams",
    kind: "integer",
    min: 1,
    max: 1_000_000_000,
    default: 1_000,
    description:
      "messages a client may send in one client or bidi stream (`LotsOfGreetings`, `BidiHello`); the next one ends the call with RESOURCE_EXHAUSTED",
  },
  MAX_WATCH_MS: {
    group: "streams",
    kind: "integer",
    unit: "ms",
    min: 1_000,
    max: 7 * day,
    default: 30 * 60_000,
    description:
      "a `WatchOrders` or `Health.Watch` stream is ended after this long (±10%) with UNAVAILABLE and a RetryInfo detail; clients reopen it",
  },
  WATCH_BUFFER_LIMIT: {
    group: "streams",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 1_000,
    description: "changes a `WatchOrders` client may fall behind by before its stream is ended",
  },

  // Database
  DATABASE_URL: {
    group: "database",
    kind: "text",
    accepts: "a postgres:// or postgresql:// URL",
    description: "use PostgreSQL (needed for replicas and `WORKERS` > 1); unset means embedded SQLite",
  },
  DATA_DIR: {
    group: "database",
    kind: "text",
    accepts: "a folder, or `memory://`",
    default: ".data",
    description:
      "the embedded database's folder, holding `server.db`; `memory://` for an in-memory database that ends with the process (ignored with `DATABASE_URL`)",
  },
  SQLITE_SYNCHRONOUS: {
    group: "database",
    kind: "oneOf",
    values: ["full", "normal"],
    default: "full",
    description:
      "`full`: every commit is synced to disk, so an acknowledged write survives a power cut; `normal`: synced at checkpoints, fewer syncs, " +
      "the last writes may be lost to a power cut (never to a crash). Embedded database only",
  },
  DATABASE_POOL_SIZE: {
    group: "database",
    kind: "integer",
    min: 1,
    max: 1_000,
    default: 10,
    description: "connections per server process to PostgreSQL",
  },
  DATABASE_STARTUP_TIMEOUT_MS: {
    group: "database",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: day,
    default: 60_000,
    description: "how long a starting server keeps retrying while PostgreSQL is unreachable before giving up",
  },

  // Logs
  LOG_LEVEL: {
    group: "logs",
    kind: "oneOf",
    values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    default: "info",
    description: "the least severe log lines written",
  },
  LOG_FORMAT: {
    group: "logs",
    kind: "oneOf",
    values: ["pretty", "json"],
    defaultText: "`pretty` on a terminal, else `json`",
    description:
      "`pretty` for people at a terminal, `json` for log collectors. One line per call: procedure, protocol, HTTP version, status, duration, request id. " +
      "Whatever a client sends stays inside its line in both formats: JSON escapes it, and `pretty` prints fields as JSON and writes line breaks, " +
      "other control characters, Unicode line separators and bidi overrides in messages as escapes (`\\n`, `\\u001b`)",
  },

  // Metrics
  METRICS: {
    group: "metrics",
    kind: "oneOf",
    values: ["on", "off"],
    default: "on",
    description: "`off`: no metrics and no `/metrics`",
  },
  METRICS_PORT: {
    group: "metrics",
    kind: "integer",
    min: 0,
    max: 65535,
    description:
      "serve `/metrics` on this port, without a token, instead of on `PORT` (where it needs `metrics:read` once tokens are required); must differ from `PORT`",
  },
  METRICS_HOST: {
    group: "metrics",
    kind: "list",
    accepts: "IP addresses or host names",
    default: defaultMetricsHosts,
    description: "addresses `METRICS_PORT` binds (only with `METRICS_PORT`)",
  },

  // Tracing
  OTEL_SDK_DISABLED: {
    group: "tracing",
    kind: "boolean",
    default: false,
    description: "`true` turns tracing off whatever else is set",
  },
  OTEL_TRACES_EXPORTER: {
    group: "tracing",
    kind: "list",
    accepts: "`otlp`, `console`, `none`",
    defaultText: "`otlp` once an endpoint is set",
    description: "`otlp`, `console` (spans printed, for debugging), both, or `none` (tracing off)",
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    group: "tracing",
    kind: "text",
    accepts: "an http:// or https:// URL",
    default: "http://localhost:4318",
    defaultText: "unset; `http://localhost:4318` when only `OTEL_TRACES_EXPORTER` turns tracing on",
    description: "turns tracing on; spans go to `<endpoint>/v1/traces`",
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    group: "tracing",
    kind: "text",
    accepts: "an http:// or https:// URL",
    description: "turns tracing on; spans go to exactly this URL",
  },
  OTEL_EXPORTER_OTLP_PROTOCOL: {
    group: "tracing",
    kind: "text",
    accepts: "only `http/protobuf`",
    defaultText: "`http/protobuf`",
    description: "the OTLP transport: this server exports spans over HTTP with protobuf",
  },
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: {
    group: "tracing",
    kind: "text",
    accepts: "only `http/protobuf`",
    defaultText: "`http/protobuf`",
    description: "the OTLP transport: this server exports spans over HTTP with protobuf",
  },
  OTEL_EXPORTER_OTLP_HEADERS: {
    group: "tracing",
    kind: "list",
    accepts: "`key=value` pairs, values percent-encoded",
    description: "headers sent with every export (e.g. `authorization=Bearer%20…`)",
  },
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: {
    group: "tracing",
    kind: "list",
    accepts: "`key=value` pairs, values percent-encoded",
    description: "headers sent with every export of spans, added to (and winning over) `OTEL_EXPORTER_OTLP_HEADERS`",
  },
  OTEL_EXPORTER_OTLP_TIMEOUT: {
    group: "tracing",
    kind: "integer",
    unit: "ms",
    min: 1,
    max: 10 * 60_000,
    default: 10_000,
    description: "how long one export may take",
  },
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: {
    group: "tracing",
    kind: "integer",
    unit: "ms",
    min: 1,
    max: 10 * 60_000,
    default: 10_000,
    description: "how long one export of spans may take",
  },
  OTEL_EXPORTER_OTLP_COMPRESSION: {
    group: "tracing",
    kind: "oneOf",
    values: ["gzip", "none"],
    default: "none",
    description: "compression of exports",
  },
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: {
    group: "tracing",
    kind: "oneOf",
    values: ["gzip", "none"],
    default: "none",
    description: "compression of exported spans",
  },
  OTEL_TRACES_SAMPLER: {
    group: "tracing",
    kind: "oneOf",
    values: ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"],
    default: "parentbased_always_on",
    description:
      "which traces are recorded; the `parentbased_` samplers follow the caller's decision when a request carries one, and apply the rest to new traces",
  },
  OTEL_TRACES_SAMPLER_ARG: {
    group: "tracing",
    kind: "text",
    accepts: "a number from 0 to 1",
    defaultText: "`1` (every new trace)",
    description: "the share of new traces the `traceidratio` samplers record (ignored by the others)",
  },
  OTEL_PROPAGATORS: {
    group: "tracing",
    kind: "list",
    accepts: "`tracecontext`, `baggage`, `none`",
    default: ["tracecontext", "baggage"],
    description: "how trace context is read from requests (W3C `traceparent`/`tracestate`, `baggage`)",
  },
  OTEL_SERVICE_NAME: {
    group: "tracing",
    kind: "text",
    accepts: "a name",
    default: defaultServiceName,
    defaultText: "`service.name` in `OTEL_RESOURCE_ATTRIBUTES`, else `connect-polyglot-server`",
    description: "the `service.name` the spans carry",
  },
  OTEL_RESOURCE_ATTRIBUTES: {
    group: "tracing",
    kind: "list",
    accepts: "`key=value` pairs, values percent-encoded",
    description: "attributes describing this process on every span (`deployment.environment.name=prod`, …)",
  },
  OTEL_BSP_SCHEDULE_DELAY: {
    group: "tracing",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: 10 * 60_000,
    default: 5_000,
    description: "finished spans wait at most this long before they are exported in a batch",
  },
  OTEL_BSP_EXPORT_TIMEOUT: {
    group: "tracing",
    kind: "integer",
    unit: "ms",
    min: 1,
    max: 10 * 60_000,
    default: 30_000,
    description: "how long the export of one batch may take",
  },
  OTEL_BSP_MAX_QUEUE_SIZE: {
    group: "tracing",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 2_048,
    description: "finished spans kept waiting for export; more are dropped",
  },
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: {
    group: "tracing",
    kind: "integer",
    min: 1,
    max: 1_000_000,
    default: 512,
    description: "spans per export, at most `OTEL_BSP_MAX_QUEUE_SIZE`",
  },

  // Process
  WORKERS: {
    group: "process",
    kind: "integer",
    min: 1,
    max: 1_024,
    default: 1,
    words: ["auto"],
    description:
      "server processes on the one port (`auto`: one per available core); more than 1 needs `DATABASE_URL`, as the embedded database belongs to one process",
  },
  SHUTDOWN_GRACE_MS: {
    group: "process",
    kind: "integer",
    unit: "ms",
    min: 0,
    max: 10 * 60_000,
    default: 10_000,
    description: "time calls in flight get to finish after SIGTERM/SIGINT (see [Shutdown](reliability.md#shutdown))",
  },
  REFLECTION: {
    group: "process",
    kind: "oneOf",
    values: ["on", "off"],
    default: "on",
    description: "`off`: no `grpc.reflection` v1/v1alpha, so the API is described to no one",
  },
  FAST_PATH: {
    group: "process",
    kind: "oneOf",
    values: ["on", "off"],
    default: "on",
    description:
      "`on` serves unary calls in the common form of each protocol, and gRPC server streams, on the server's own fast path " +
      "(same interceptors, answers and limits; see [Performance](performance.md)); `off` sends every request through connect-node's generic pipeline",
  },
  HEAP_PROFILE: {
    group: "process",
    kind: "oneOf",
    values: ["small", "fast"],
    defaultText: "`small` with the embedded database, `fast` with `DATABASE_URL`",
    description:
      "how V8's heap grows. `small` lets the young generation grow to 8 MiB semi-spaces (V8's own limit is 16) and compiles optimized code on the main thread " +
      "(start-up flags: the server restarts itself in place with them): about 175 against 270 MiB of RSS under load (gRPC unary 8×16) " +
      "for about the same CPU per call (see [the database](database.md)). Once the event loop has been idle for two seconds after work that grew " +
      "the process by 16 MiB or more, it also runs one memory-reducing garbage collection (40-130 ms of the main thread), " +
      "which gives back 30-50 MiB after a burst of database calls. `fast` leaves V8's defaults",
  },
} as const satisfies Record<string, Setting>;

export type Settings = typeof settings;
export type SettingName = keyof Settings;
