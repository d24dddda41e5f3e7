import type { Engine } from "./engine.js";
import { isConnectionFailure, unavailable } from "./failures.js";

/**
 * Runs one database operation; a lost or refused connection becomes an
 * UnavailableError (UNAVAILABLE for the client) and prompts a health check.
 * Any other failure is a bug and propagates as it is.
 */
export async function guard<T>(engine: Engine, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!isConnectionFailure(error)) throw error;
    engine.reportFailure(error);
    throw unavailable(error);
  }
}
