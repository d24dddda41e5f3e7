import type { Interceptor } from "@connectrpc/connect";
import type { RequestRules } from "../validation/request-rules.js";

/**
 * Checks every request message against its contract's rules before the
 * handler sees it: the unary message at once, a stream's messages one by one
 * as the handler reads them (so a bad message ends the call where it is, as
 * the handler's own checks did). A violation is thrown as the domain's
 * ValidationError, which the error mapping outside answers with
 * INVALID_ARGUMENT and a google.rpc.BadRequest.
 */
export function validationInterceptor(rules: RequestRules): Interceptor {
  return (next) => (req) => {
    const schema = req.method.input;
    if (!req.stream) {
      rules.checkRequest(schema, req.message);
      return next(req);
    }
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const message of messages) {
          rules.checkRequest(schema, message);
          yield message;
        }
      })(),
    });
  };
}
