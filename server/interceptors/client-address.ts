import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { requestInfoKey } from "../pipeline/request-info.js";
import type { TrustedProxies } from "../trusted-proxies.js";

/**
 * The client's address as logs and rate limits count it: the TCP peer, or
 * the address a trusted proxy forwarded (see TRUST_PROXY). Undefined until
 * clientAddressInterceptor has run.
 */
export const clientAddressKey = createContextKey<string | undefined>(undefined, { description: "client address" });

/** Sets clientAddressKey for every call, from the peer and, behind a trusted proxy, X-Forwarded-For. */
export function clientAddressInterceptor(proxies: TrustedProxies): Interceptor {
  return (next) => (req) => {
    const { remoteAddress } = req.contextValues.get(requestInfoKey);
    req.contextValues.set(clientAddressKey, proxies.clientAddress(remoteAddress, req.header.get("x-forwarded-for")));
    return next(req);
  };
}
