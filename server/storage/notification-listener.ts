import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Logger } from "../logger.js";
import { backoffMs } from "./engine.js";
import { describeFailure } from "./failures.js";
import type { HealthState } from "./health.js";

const heartbeatMs = 5_000;

export interface ListenHandlers {
  onPayload(payload: string): void;
  onLost(error: Error): void;
}

/**
 * One connection that LISTENs on a channel while changes are wanted (see
 * want()). When it breaks it reports the loss (so watchers know changes
 * may be missed), marks the database unreachable and reconnects with
 * backoff; a heartbeat notices connections that died silently. No step
 * waits on the database for longer than `answerTimeoutMs`: a silent
 * network counts as a lost connection.
 */
export class NotificationListener {
  private client: pg.Client | undefined;
  /** Whether this process needs the channel's changes now. */
  private wanted = false;
  /** The connection on which LISTEN is in effect, if any. */
  private listeningOn: pg.Client | undefined;
  /** LISTEN and UNLISTEN, one after the other. */
  private syncing: Promise<void> = Promise.resolve();
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly answerTimeoutMs: number,
    private readonly channel: string,
    private readonly handlers: ListenHandlers,
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

  /**
   * LISTENs while `wanted`, on this connection and on every one after it;
   * UNLISTENs otherwise. Every change committed after this resolves (with
   * `wanted` true) is received, unless the connection is lost (onLost).
   * Rejects when not connected, or when the database does not answer.
   */
  want(wanted: boolean): Promise<void> {
    this.wanted = wanted;
    const step = this.syncing.then(() => this.sync());
    this.syncing = step.catch(() => {});
    return step;
  }

  /** Brings the connection to what is wanted now (not when the step was queued). */
  private async sync(): Promise<void> {
    const client = this.client;
    if (client === undefined) {
      if (this.wanted) throw new Error("not connected to the database");
      return;
    }
    const channel = client.escapeIdentifier(this.channel);
    try {
      if (this.wanted && this.listeningOn !== client) {
        await this.answered(client.query(`listen ${channel}`));
        this.listeningOn = client;
      } else if (!this.wanted && this.listeningOn === client) {
        this.listeningOn = undefined;
        await this.answered(client.query(`unlisten ${channel}`));
      }
    } catch (error) {
      const lost = error instanceof Error ? error : new Error(String(error));
      this.lost(client, lost);
      throw lost;
    }
  }

  /** Runs a trivial query on the listening connection; a failure or no answer in time counts as the connection lost. */
  check(): void {
    const client = this.client;
    if (client === undefined || this.checking) return;
    this.checking = true;
    this.answered(client.query("select 1"))
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
    // Listening from the start: a connection that breaks at any point, even
    // while it is being set up, must not throw an unhandled 'error'.
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("the connection was closed")));
    client.on("notification", ({ channel, payload }) => {
      if (channel === this.channel && payload !== undefined) this.handlers.onPayload(payload);
    });
    try {
      // connect() has its own timeout (connectionTimeoutMillis).
      await client.connect();
      // Listening from the first query, which also proves the connection
      // answers; the want() below stops it again if nobody watches.
      await this.answered(client.query(`listen ${client.escapeIdentifier(this.channel)}`));
      this.listeningOn = client;
    } catch (error) {
      // end() cuts the connection at once if the LISTEN is still waiting.
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.health.set(true);
    // What is wanted may have changed while this connection was being made.
    this.want(this.wanted).catch(() => {});
  }

  /** `answer`, or an error once `answerTimeoutMs` has passed without one. */
  private answered<T>(answer: Promise<T>): Promise<T> {
    const silence = sleep(this.answerTimeoutMs, undefined, { ref: false }).then(() => {
      throw new Error(`the database did not answer within ${this.answerTimeoutMs} ms`);
    });
    return Promise.race([answer, silence]);
  }

  private lost(client: pg.Client, error: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    // Cuts the connection at once if a query still waits on it (pg's end()).
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
