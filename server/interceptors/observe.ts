import type { Interceptor, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";

/**
 * Runs `onError` for whatever the handler throws (its result is thrown in its
 * place), and `onEnd` once when the call is over, with what `onStart`
 * returned when it began. For streaming kinds the work happens while the
 * response is iterated, so that is where the outcome is known; a stream
 * abandoned midway (client gone) ends with the signal's reason. The hooks
 * are made once, with the interceptor, and get the call's request: no
 * closures per call.
 */
export function observeCall<State = undefined>(hooks: {
  onStart?: (req: UnaryRequest | StreamRequest) => State;
  onError: (error: unknown, signal: AbortSignal, req: UnaryRequest | StreamRequest) => unknown;
  onEnd?: (error: unknown, req: UnaryRequest | StreamRequest, state: State) => void;
}): Interceptor {
  const { onStart, onError, onEnd } = hooks;
  return (next) => async (req) => {
    const state = onStart?.(req) as State;
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(req);
    } catch (error) {
      const mapped = onError(error, req.signal, req);
      onEnd?.(mapped, req, state);
      throw mapped;
    }
    if (!res.stream) {
      onEnd?.(undefined, req, state);
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
          outcome = onError(error, req.signal, req);
          throw outcome;
        } finally {
          onEnd?.(outcome ?? (req.signal.aborted ? req.signal.reason : undefined), req, state);
        }
      })(),
    };
  };
}
