import type { Interceptor, StreamResponse, UnaryResponse } from "@connectrpc/connect";

/**
 * Runs `onError` for whatever the handler throws (its result is thrown in its
 * place), and `onEnd` once when the call is over. For streaming kinds the work
 * happens while the response is iterated, so that is where the outcome is
 * known; a stream abandoned midway (client gone) ends with the signal's reason.
 */
export function observeCall(hooks: {
  onError: (error: unknown, signal: AbortSignal) => unknown;
  onEnd?: (error: unknown) => void;
}): Interceptor {
  return (next) => async (req) => {
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(req);
    } catch (error) {
      const mapped = hooks.onError(error, req.signal);
      hooks.onEnd?.(mapped);
      throw mapped;
    }
    if (!res.stream) {
      hooks.onEnd?.(undefined);
      return res;
    }
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        let outcome: unknown;
        try {
          yield* messages;
          outcome = undefined;
        } catch (error) {
          outcome = hooks.onError(error, req.signal);
          throw outcome;
        } finally {
          hooks.onEnd?.(outcome ?? (req.signal.aborted ? req.signal.reason : undefined));
        }
      })(),
    };
  };
}
