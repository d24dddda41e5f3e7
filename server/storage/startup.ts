import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../logger.js";
import { backoffMs } from "./engine.js";
import { describeFailure, isConnectionFailure } from "./failures.js";

export interface StartupPatience {
  /** When to give up, in ms since the epoch. */
  readonly deadline: number;
  /** The setting behind the deadline, for the message that gives up. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * Runs one step of opening the database (connecting, migrating, starting to
 * listen) again and again while it fails for want of a connection, with
 * backoff, until the deadline; a cut in the middle of a step just means
 * doing it again, since each step is safe to repeat (migrations run in one
 * transaction). Any other failure, like a wrong password, ends it at once.
 * `what` names the step in the log ("PostgreSQL is not reachable yet").
 */
export async function retryWhileUnreachable<T>(
  what: string,
  step: () => Promise<T>,
  { deadline, timeoutMs, logger }: StartupPatience,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      const reason = describeFailure(error);
      const delay = backoffMs(attempt);
      if (Date.now() + delay > deadline) {
        throw new Error(`PostgreSQL could not be reached within ${timeoutMs} ms (DATABASE_STARTUP_TIMEOUT_MS): ${reason}`, {
          cause: error,
        });
      }
      logger.warn({ reason, retryInMs: delay, attempt: attempt + 1 }, `${what} (${reason}); retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}
