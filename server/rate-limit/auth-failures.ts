import type { ConnectError } from "@connectrpc/connect";
import { RateLimiterRes } from "rate-limiter-flexible";
import type { Logger } from "../logger.js";
import { callerKey } from "./caller.js";
import { budgetSpent } from "./exhausted.js";
import type { Limiter } from "./limiters.js";

/** Addresses remembered as over budget before the expired ones are swept out. */
const sweepAbove = 10_000;

/**
 * The budget of failed authentications of each client address: every
 * refused token or authorization header spends a point, and an address
 * that has spent them all has its calls that carry credentials refused with
 * RESOURCE_EXHAUSTED until the window ends, before the token is checked, so
 * guessing tokens and flooding the log with refusals cost the guesser, not
 * the server. A successful authentication gives nothing back.
 *
 * Which addresses are over budget is remembered in this process, so the
 * refusal costs no query even when the counters live in PostgreSQL; another
 * replica's count reaches this one at the address's next failure here.
 */
export class AuthFailureBudget {
  /** Client address key to the time (ms since the epoch) its window ends. */
  private readonly spent = new Map<string, number>();

  constructor(
    private readonly limiter: Limiter,
    private readonly logger: Logger,
  ) {}

  /** The refusal for a call carrying credentials from `address`, or undefined while it may still try. */
  refusal(address: string | undefined, now = Date.now()): ConnectError | undefined {
    const key = callerKey(undefined, address);
    const until = this.spent.get(key);
    if (until === undefined) return undefined;
    if (until <= now) {
      this.spent.delete(key);
      return undefined;
    }
    return budgetSpent("authFailures", this.limiter, until - now);
  }

  /**
   * Spends a point for a failed authentication from `address`. Resolves with
   * the refusal the call gets instead of its own error when this failure was
   * one too many, else undefined. A counter store that fails counts nothing
   * (and says so in the log): the call still gets its own answer.
   */
  async charge(address: string | undefined): Promise<ConnectError | undefined> {
    const key = callerKey(undefined, address);
    try {
      await this.limiter.consume(key);
      return undefined;
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) {
        this.logger.warn({ err: outcome }, "cannot count a failed authentication (RATE_LIMIT_AUTH_FAILURES)");
        return undefined;
      }
      const now = Date.now();
      if (this.spent.size >= sweepAbove) {
        for (const [spentKey, until] of this.spent) if (until <= now) this.spent.delete(spentKey);
      }
      this.spent.set(key, now + outcome.msBeforeNext);
      return budgetSpent("authFailures", this.limiter, outcome.msBeforeNext);
    }
  }
}
