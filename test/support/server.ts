import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { type Config, loadConfig } from "../../server/config.js";
import type { FastPathStats } from "../../server/fast-path/fast-path.js";
import type { RouteDependencies } from "../../server/routes.js";
import { startServer } from "../../server/server.js";
import { type LogRecord, memoryLogger } from "./logs.js";

export type { LogRecord };

export interface TestServer {
  readonly port: number;
  /** The port of /metrics when METRICS_PORT gives it one of its own. */
  readonly metricsPort: number | undefined;
  readonly baseUrl: string;
  /** Everything the server logged so far. */
  readonly logs: LogRecord[];
  /** The server's domain objects and database health, to observe what clients cannot see. */
  readonly dependencies: RouteDependencies;
  /** Streaming calls open in the server now. */
  openStreams(): number;
  /** Calls the fast path served, by protocol; undefined when it is off. */
  readonly fastPath: FastPathStats | undefined;
  /** Log lines of finished calls to one procedure, e.g. "/greeter.v1.GreeterService/SayHello". */
  callLogs(procedure: string): LogRecord[];
  /** Waits for the call log line of `procedure` number `count` (1-based). */
  waitForCallLog(procedure: string, count?: number): Promise<LogRecord>;
  shutdown(): Promise<void>;
}

/**
 * Starts the real server, in this process, on a free port, logging JSON into
 * memory. Its database is a fresh in-memory SQLite database unless `env` sets
 * DATA_DIR or DATABASE_URL (see test/support/database.ts). FAST_PATH from
 * this process's environment applies (CI runs the suites both ways) unless
 * `env` sets it.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const fastPath = process.env.FAST_PATH === undefined ? {} : { FAST_PATH: process.env.FAST_PATH };
  const config: Config = loadConfig(
    { PORT: "0", HOST: "127.0.0.1", SHUTDOWN_GRACE_MS: "200", DATA_DIR: "memory://", ...fastPath, ...env },
    false,
  );
  const { logger, logs } = memoryLogger();
  const server = await startServer(config, logger);
  const callLogs = (procedure: string) => logs.filter((record) => record.procedure === procedure);
  return {
    port: server.port,
    metricsPort: server.metricsPort,
    baseUrl: `http://127.0.0.1:${server.port}`,
    logs,
    dependencies: server.dependencies,
    fastPath: server.fastPath,
    openStreams: server.openStreams,
    callLogs,
    async waitForCallLog(procedure, count = 1) {
      for (let waited = 0; waited < 5_000; waited += 10) {
        const found = callLogs(procedure)[count - 1];
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no log line for call ${count} to ${procedure}`);
    },
    shutdown: () => server.shutdown(),
  };
}

/** A client transport per protocol and HTTP version that the server must serve. */
export interface ProtocolCase {
  readonly name: string;
  /** The protocol the server should log for calls made with this transport. */
  readonly protocol: "grpc" | "grpc-web" | "connect";
  readonly http: "1.1" | "2.0";
  /** True when side-effect-free unary calls go out as HTTP GET. */
  readonly get: boolean;
  readonly transport: Transport;
}

/**
 * gRPC over h2c, gRPC-Web over HTTP/1.1, Connect JSON over HTTP/1.1, Connect
 * binary over HTTP/2, and Connect GET. Call `close` to end HTTP/2 sessions.
 */
export function protocolCases(baseUrl: string): { cases: ProtocolCase[]; close(): void } {
  const sessions: Http2SessionManager[] = [];
  const h2 = () => {
    const manager = new Http2SessionManager(baseUrl);
    sessions.push(manager);
    return manager;
  };
  const cases: ProtocolCase[] = [
    { name: "gRPC (h2c)", protocol: "grpc", http: "2.0", get: false, transport: createGrpcTransport({ baseUrl, sessionManager: h2() }) },
    {
      name: "gRPC-Web (HTTP/1.1)",
      protocol: "grpc-web",
      http: "1.1",
      get: false,
      transport: createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
    },
    {
      name: "Connect JSON (HTTP/1.1)",
      protocol: "connect",
      http: "1.1",
      get: false,
      transport: createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    },
    {
      name: "Connect binary (HTTP/2)",
      protocol: "connect",
      http: "2.0",
      get: false,
      transport: createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager: h2() }),
    },
    {
      name: "Connect GET (HTTP/1.1)",
      protocol: "connect",
      http: "1.1",
      get: true,
      transport: createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true }),
    },
  ];
  return {
    cases,
    close: () => {
      for (const manager of sessions) manager.abort();
    },
  };
}
