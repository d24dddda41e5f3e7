import { randomUUID } from "node:crypto";
import { ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";

const header = "x-request-id";
/** Ids from a client or proxy are kept if short and plain; anything else is replaced. */
const acceptable = /^[\w.:@/+=-]{1,128}$/;

/** The call's request id, once requestIdInterceptor has chosen it (the call log quotes it). */
export const requestIdKey = createContextKey<string | undefined>(undefined, { description: "request id" });

/**
 * Every answer carries an `x-request-id` response header: the one the caller
 * (or a proxy in front) sent, or a new UUID, so a client can quote it when
 * reporting a problem. Errors carry it too.
 */
export function requestIdInterceptor(): Interceptor {
  return (next) => async (req) => {
    const sent = req.header.get(header);
    const id = sent !== null && acceptable.test(sent) ? sent : randomUUID();
    req.contextValues.set(requestIdKey, id);
    try {
      const res = await next(req);
      res.header.set(header, id);
      return res;
    } catch (error) {
      const connectError = ConnectError.from(error);
      connectError.metadata.set(header, id);
      throw connectError;
    }
  };
}
