import type { Logger } from "../logger.js";

/**
 * A log line for events an attacker can repeat thousands of times a second
 * (refused connections, flooding clients): the first one is logged at once,
 * later ones at most once per `intervalMs`, each line counting the events
 * since the previous one, so a flood costs a few lines, not millions.
 */
export class ThrottledLog {
  private suppressed = 0;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFields: Record<string, unknown> = {};

  constructor(
    private readonly logger: Logger,
    private readonly level: "info" | "warn",
    private readonly message: string,
    private readonly intervalMs = 1_000,
  ) {}

  /** Records one event; `fields` describe the latest one (the client's address, the limit). */
  event(fields: Record<string, unknown>): void {
    const now = performance.now();
    this.lastFields = fields;
    if (now - this.lastLoggedAt >= this.intervalMs) {
      this.write(this.suppressed + 1, now);
      return;
    }
    this.suppressed++;
    // The last events of a burst are reported too, once the interval is over.
    this.flushTimer ??= setTimeout(
      () => {
        this.flushTimer = undefined;
        if (this.suppressed > 0) this.write(this.suppressed, performance.now());
      },
      this.intervalMs - (now - this.lastLoggedAt),
    ).unref();
  }

  private write(count: number, now: number): void {
    this.suppressed = 0;
    this.lastLoggedAt = now;
    this.logger[this.level]({ ...this.lastFields, count }, this.message);
  }
}
