import { randomUUID } from "node:crypto";
import { ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";

export const requestIdHeader = "x-request-id";
/** Ids from a client or proxy are kept if short and plain; anything else is replaced. */
const maxLength = 128;
const acceptable = /^[\w.:@/+=-]+$/;

/** The id the caller sent if it is short and plain (its length checked first), else a new UUID. */
export function chooseRequestId(headers: Headers): string {
  const sent = headers.get(requestIdHeader);
  return sent !== null && sent.length <= maxLength && acceptable.test(sent) ? sent : newRequestId();
}

/**
 * The first 24 characters of this process's request ids: a random version 4
 * UUID's, so ids look as the documentation says and 74 random bits keep
 * processes apart. The last 12 count the ids made here: unique within the
 * process (2^48 of them), and made with one small string per call where a
 * whole randomUUID cost about half a kilobyte of garbage. A request id
 * identifies a call in logs and traces; it is no secret (clients choose
 * their own).
 */
const idPrefix = randomUUID().slice(0, 24);
let idsMade = 0;

function newRequestId(): string {
  idsMade++;
  return idPrefix + idsMade.toString(16).padStart(12, "0");
}

/** The call's request id, once requestIdInterceptor has chosen it (the call log quotes it). */
export const requestIdKey = createContextKey<string | undefined>(undefined, { description: "request id" });

/**
 * Every answer carries an `x-request-id` response header: the one the caller
 * (or a proxy in front) sent, or a new UUID, so a client can quote it when
 * reporting a problem. Errors carry it too.
 */
export function requestIdInterceptor(): Interceptor {
  // Not an async function: one promise and two closures per call, where an async frame cost twice the memory.
  return (next) => (req) => {
    const id = chooseRequestId(req.header);
    req.contextValues.set(requestIdKey, id);
    const tagged = (error: unknown): ConnectError => {
      const connectError = ConnectError.from(error);
      connectError.metadata.set(requestIdHeader, id);
      return connectError;
    };
    const failed = (error: unknown): never => {
      throw tagged(error);
    };
    let answer: ReturnType<typeof next>;
    try {
      answer = next(req);
    } catch (error) {
      return Promise.reject(tagged(error));
    }
    return answer.then((res) => {
      res.header.set(requestIdHeader, id);
      return res;
    }, failed);
  };
}
