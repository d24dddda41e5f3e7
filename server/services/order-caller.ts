import type { HandlerContext } from "@connectrpc/connect";
import { ordersAdminScope } from "../auth/access.js";
import { principalKey } from "../auth/principal.js";
import { anonymousCaller, type OrderCaller } from "../domain/orders.js";

/**
 * Whose orders a call works on: the verified token's subject, with every
 * owner's orders when the token carries `orders:admin`; the anonymous owner
 * when no token came (or authentication is off).
 */
export function orderCaller(context: HandlerContext): OrderCaller {
  const principal = context.values.get(principalKey);
  if (principal === undefined) return anonymousCaller;
  return { owner: principal.subject, admin: principal.scopes.has(ordersAdminScope) };
}
