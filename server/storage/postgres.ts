import { type Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { DatabaseConfig } from "../config.js";
import { redactPassword } from "../config.js";
import type { Logger } from "../logger.js";
import { handleClientErrors } from "./client-errors.js";
import type { Engine } from "./engine.js";
import { describeFailure, isConnectionFailure } from "./failures.js";
import { HealthState } from "./health.js";
import { postgresMigrations } from "./migrations/postgres.js";
import { NotificationListener } from "./notification-listener.js";
import { postgresSql } from "./postgres-sql.js";
import { withQueryDeadline } from "./query-deadline.js";
import type { Tables } from "./schema.js";
import { retryWhileUnreachable, type StartupPatience } from "./startup.js";

type PostgresConfig = Extract<DatabaseConfig, { engine: "postgres" }>;

/** Longest wait for a new connection, or for a free one when the pool is busy. */
const connectTimeoutMs = 5_000;
/** Longest a query made for a call may go unanswered before its connection is dropped (see query-deadline.ts). */
export const queryTimeoutMs = 30_000;
/** TCP keepalive probes start after this much silence, so a peer that vanished is noticed in seconds rather than hours. */
const keepAliveDelayMs = 10_000;
/**
 * PostgreSQL ends a session that sits idle inside a transaction this long,
 * freeing its row locks: should this process lose its network mid-transaction,
 * other replicas are not blocked until PostgreSQL notices the dead connection.
 * Our transactions never wait on anything but their own queries.
 */
const idleInTransactionTimeoutMs = 60_000;
const applicationName = "connect-polyglot-server";

/**
 * A PostgreSQL server shared by every replica. Waits for it at start (with
 * backoff, up to `startupTimeoutMs`); afterwards the pool opens new
 * connections as needed, so queries work again as soon as the server is
 * back, and a dedicated connection receives notifications, reconnecting by
 * itself. That connection is also the health signal.
 */
export async function openPostgres(config: PostgresConfig, logger: Logger): Promise<Engine> {
  const patience: StartupPatience = { deadline: Date.now() + config.startupTimeoutMs, timeoutMs: config.startupTimeoutMs, logger };
  const connection: pg.ClientConfig = {
    connectionString: config.url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: keepAliveDelayMs,
    idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
    application_name: applicationName,
  };
  const pool = new pg.Pool({ ...connection, max: config.poolSize });
  const health = new HealthState(true);
  const listeners: NotificationListener[] = [];

  // Once per outage at warn level: the calls and connections that fail with
  // it fail the same way.
  let reported = false;
  health.onChange((reachable) => {
    if (reachable) reported = false;
  });
  const noticeFailure = (message: string, error: unknown) => {
    logger[reported ? "debug" : "warn"]({ reason: describeFailure(error) }, message);
    reported = true;
    for (const listener of listeners) listener.check();
  };
  handleClientErrors(pool, (error) => noticeFailure("a database connection broke", error));

  try {
    await retryWhileUnreachable("PostgreSQL is not reachable yet", () => firstQuery(pool), patience);
  } catch (error) {
    await pool.end();
    throw error;
  }
  logger.info({ engine: "postgres", url: redactPassword(config.url) }, "connected to PostgreSQL");

  const callPool = withQueryDeadline(pool, queryTimeoutMs);
  return {
    kind: "postgres",
    adminDialect: new PostgresDialect({ pool }),
    callDialect: new PostgresDialect({ pool: callPool }),
    migrations: postgresMigrations,
    sql: postgresSql,
    connections: {
      max: config.poolSize,
      get total() {
        return pool.totalCount;
      },
      get idle() {
        return pool.idleCount;
      },
      get waiting() {
        return pool.waitingCount;
      },
    },
    sharedPool: callPool,
    health,
    currentSchema,
    async publish(tx, channel, payload) {
      await sql`select pg_notify(${channel}, ${payload})`.execute(tx);
    },
    get listening() {
      return listeners.every((listener) => listener.connected);
    },
    async listen(channel, handlers) {
      const listener = new NotificationListener(connection, connectTimeoutMs, channel, handlers, health, logger);
      await listener.start();
      listeners.push(listener);
      return { want: (wanted) => listener.want(wanted) };
    },
    reportFailure: (error) => noticeFailure("a database call failed for want of a connection", error),
    whileStarting: (what, step) => retryWhileUnreachable(what, step, patience),
    async close() {
      await Promise.all(listeners.map((listener) => listener.close()));
      await pool.end();
    },
  };
}

/** A trivial query; a failure that retrying cannot cure (a wrong password, no such database) says so. */
async function firstQuery(pool: pg.Pool): Promise<void> {
  try {
    await pool.query("select 1");
  } catch (error) {
    if (isConnectionFailure(error)) throw error;
    throw new Error(`PostgreSQL refused the connection: ${describeFailure(error)}`, { cause: error });
  }
}

async function currentSchema(db: Kysely<Tables>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (schema === null || schema === undefined) {
    throw new Error("the database has no schema to use: its search_path names no schema that exists");
  }
  return schema;
}
