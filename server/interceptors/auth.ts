import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { accessOf } from "../auth/access.js";
import { bearerToken } from "../auth/bearer.js";
import { scopeMissing, tokenMissing } from "../auth/errors.js";
import { grantKey, type Principal, principalKey } from "../auth/principal.js";
import type { TokenVerifier } from "../auth/verifier.js";
import { requestInfoKey } from "../pipeline/request-info.js";
import { type Access, fullName } from "../policy/methods.js";
import type { AuthFailureBudget } from "../rate-limit/auth-failures.js";
import { clientAddressKey } from "./client-address.js";

export interface AuthPolicy {
  /** Checks bearer tokens; undefined when authentication is off and every call is allowed. */
  readonly verifier: TokenVerifier | undefined;
  /** Reads need a valid token too (any scope). */
  readonly requireForReads: boolean;
  /** Charges refused credentials to the client address; undefined: not counted (RATE_LIMIT_AUTH_FAILURES=0). */
  readonly failures?: AuthFailureBudget | undefined;
}

/**
 * Authentication and authorization for every call, whatever the protocol:
 * the token comes in the `authorization` header, which is also gRPC
 * metadata. A token that is sent is always checked, even where none is
 * needed, so a client with a bad one hears about it. What each method needs
 * comes from the method table (server/policy/methods.ts); a method missing from
 * it is refused. The caller and the scope that allowed a change are put in
 * the call's context, for the rate limits and the call log.
 *
 * Credentials that are refused are charged to the client address (the one
 * the other budgets count, TRUST_PROXY aware); an address over that budget
 * has its calls with credentials refused before any token is checked. Calls
 * without credentials are not refused by it: they guess nothing, and the
 * call budgets count them.
 */
export function authInterceptor({ verifier, requireForReads, failures }: AuthPolicy): Interceptor {
  if (verifier === undefined) {
    // Authentication off: only the method table is consulted, with no promise of its own per call.
    return (next) => (req) => {
      try {
        if (accessOf(req.method) === undefined) throw noAccessRule(req.method);
        return next(req);
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  return (next) => async (req) => {
    const access = accessOf(req.method);
    if (access === undefined) throw noAccessRule(req.method);
    const principal = req.header.has("authorization") ? await authenticate(req, verifier, failures) : undefined;
    req.contextValues.set(principalKey, principal);
    req.contextValues.set(grantKey, authorize(req.method, access, principal, requireForReads));
    const res = await next(req);
    // An answer only token holders may see must not be handed to others by a
    // shared cache, which would keep a "public" one despite the token.
    const cacheControl = requireForReads && !res.stream ? res.header.get("cache-control") : null;
    if (cacheControl !== null) res.header.set("cache-control", cacheControl.replace(/\bpublic\b/, "private"));
    return res;
  };
}

type Request = Parameters<ReturnType<Interceptor>>[0];

/** The principal the call's credentials name; throws the refusal otherwise, charging it to the client address. */
async function authenticate(
  req: Request,
  verifier: TokenVerifier,
  failures: AuthFailureBudget | undefined,
): Promise<Principal | undefined> {
  const address = req.contextValues.get(clientAddressKey) ?? req.contextValues.get(requestInfoKey).remoteAddress;
  const refusal = failures?.refusal(address);
  if (refusal !== undefined) throw refusal;
  try {
    const token = bearerToken(req.header);
    return token === undefined ? undefined : await verifier.verify(token);
  } catch (error) {
    // The token's fault only: keys that cannot be fetched are the server's.
    if (failures !== undefined && error instanceof ConnectError && error.code === Code.Unauthenticated) {
      throw (await failures.charge(address)) ?? error;
    }
    throw error;
  }
}

function noAccessRule(method: DescMethod): ConnectError {
  return new ConnectError(`${fullName(method)} has no access rule, so nobody may call it`, Code.PermissionDenied);
}

/** Throws unless `principal` may call `method`; returns the scope that allowed a change. */
function authorize(method: DescMethod, access: Access, principal: Principal | undefined, requireForReads: boolean): string | undefined {
  switch (access.kind) {
    case "probe":
      return undefined;
    case "read":
      if (principal === undefined && requireForReads) {
        throw tokenMissing(`${method.name} needs a bearer token: send the header "authorization: Bearer <token>"`);
      }
      return undefined;
    case "write": {
      const { scope } = access;
      if (principal === undefined) {
        throw tokenMissing(
          `${method.name} changes data: send a bearer token with the scope "${scope}" in the header "authorization: Bearer <token>"`,
        );
      }
      if (!principal.scopes.has(scope)) {
        const held =
          principal.scopes.size === 0 ? "the token has no scopes" : `the token's scopes are "${[...principal.scopes].join(" ")}"`;
        throw scopeMissing(`${method.name} needs the scope "${scope}"; ${held}`, scope);
      }
      return scope;
    }
  }
}
