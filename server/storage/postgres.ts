import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { DatabaseConfig } from "../config.js";
import { redactPassword } from "../config.js";
import type { Logger } from "../logger.js";
import { backoffMs, type Engine } from "./engine.js";
import { describeFailure, isConnectionFailure } from "./failures.js";
import { HealthState } from "./health.js";

type PostgresConfig = Extract<DatabaseConfig, { engine: "postgres" }>;

const connectTimeoutMs = 5_000;
const heartbeatMs = 5_000;
const applicationName = "connect-polyglot-server";

/**
 * A PostgreSQL server shared by every replica. Waits for it at start (with
 * backoff, up to `startupTimeoutMs`); afterwards the pool opens new
 * connections as needed, so queries work again as soon as the server is
 * back, and a dedicated connection receives notifications, reconnecting by
 * itself. That connection is also the health signal.
 */
export async function openPostgres(config: PostgresConfig, logger: Logger): Promise<Engine> {
  const connection = {
    connectionString: config.url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    application_name: applicationName,
  };
  const pool = new pg.Pool({ ...connection, max: config.poolSize });
  // An idle pooled connection that breaks must not crash the process; the
  // pool drops it and the next query opens a new one.
  pool.on("error", (error) => logger.warn({ reason: describeFailure(error) }, "a pooled database connection broke"));

  await waitForDatabase(pool, config, logger).catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  logger.info({ engine: "postgres", url: redactPassword(config.url) }, "connected to PostgreSQL");

  const health = new HealthState(true);
  const listeners: NotificationListener[] = [];
  return {
    kind: "postgres",
    pool,
    health,
    get listening() {
      return listeners.every((listener) => listener.connected);
    },
    async listen(channel, handlers) {
      const listener = new NotificationListener(connection, channel, handlers, health, logger);
      await listener.start();
      listeners.push(listener);
    },
    reportFailure(error) {
      // Once per outage at warn level; the calls that follow fail the same way.
      const level = health.reachable ? "warn" : "debug";
      logger[level]({ reason: describeFailure(error) }, "a database call failed for want of a connection");
      for (const listener of listeners) listener.check();
    },
    async close() {
      await Promise.all(listeners.map((listener) => listener.close()));
      await pool.end();
    },
  };
}

async function waitForDatabase(pool: pg.Pool, config: PostgresConfig, logger: Logger): Promise<void> {
  const deadline = Date.now() + config.startupTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query("select 1");
      return;
    } catch (error) {
      const reason = describeFailure(error);
      if (!isConnectionFailure(error)) throw new Error(`PostgreSQL refused the connection: ${reason}`, { cause: error });
      const delay = backoffMs(attempt);
      if (Date.now() + delay > deadline) {
        throw new Error(`PostgreSQL could not be reached within ${config.startupTimeoutMs} ms (DATABASE_STARTUP_TIMEOUT_MS): ${reason}`, {
          cause: error,
        });
      }
      logger.warn(
        { reason, retryInMs: delay, attempt: attempt + 1 },
        `PostgreSQL is not reachable yet (${reason}); retrying in ${delay} ms`,
      );
      await sleep(delay);
    }
  }
}

/**
 * One connection that LISTENs on a channel. When it breaks it reports the
 * loss (so watchers know changes may be missed), marks the database
 * unreachable and reconnects with backoff; a heartbeat notices connections
 * that died silently.
 */
class NotificationListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly channel: string,
    private readonly handlers: { onPayload(payload: string): void; onLost(error: Error): void },
    private readonly health: HealthState,
    private readonly logger: Logger,
  ) {
    this.heartbeat = setInterval(() => this.check(), heartbeatMs);
    this.heartbeat.unref();
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      clearInterval(this.heartbeat);
      throw error;
    }
  }

  /** Runs a trivial query on the listening connection; a failure counts as the connection lost. */
  check(): void {
    const client = this.client;
    if (client === undefined || this.checking) return;
    this.checking = true;
    const timeout = sleep(connectTimeoutMs, "timeout" as const, { ref: false });
    void Promise.race([client.query("select 1").then(() => "ok" as const), timeout])
      .then((outcome) => {
        if (outcome === "timeout") this.lost(client, new Error("the database stopped answering"));
      })
      .catch((error: unknown) => this.lost(client, error instanceof Error ? error : new Error(String(error))))
      .finally(() => (this.checking = false));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.connection);
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("the connection was closed")));
    client.on("notification", ({ channel, payload }) => {
      if (channel === this.channel && payload !== undefined) this.handlers.onPayload(payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${client.escapeIdentifier(this.channel)}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.health.set(true);
  }

  private lost(client: pg.Client, error: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    void client.end().catch(() => {});
    if (this.closed) return;
    this.health.set(false);
    this.logger.warn({ reason: describeFailure(error) }, "lost the connection to PostgreSQL; reconnecting");
    this.handlers.onLost(error);
    this.reconnect(0);
  }

  private reconnect(attempt: number): void {
    const delay = backoffMs(attempt);
    this.retry = setTimeout(() => {
      this.connect().then(
        () => {
          if (!this.closed) this.logger.info({ attempts: attempt + 1 }, "PostgreSQL is reachable again");
        },
        (error: unknown) => {
          if (this.closed) return;
          this.logger.warn({ reason: describeFailure(error), retryInMs: backoffMs(attempt + 1) }, "PostgreSQL is still unreachable");
          this.reconnect(attempt + 1);
        },
      );
    }, delay);
    this.retry.unref();
  }
}
