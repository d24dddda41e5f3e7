import type { DescMethod } from "@bufbuild/protobuf";
import { type Access, policyOf } from "../policy/methods.js";

/**
 * The scope that reaches every owner's orders, not only the caller's own:
 * reading any order, and changing any with `orders:write` as well. No method
 * needs it: it widens which orders a call works on (the order services check
 * it), not whether the call is allowed.
 */
export const ordersAdminScope = "orders:admin";

/** The access a method needs (see the method table); undefined for a method nobody classified (refused, never public). */
export function accessOf(method: DescMethod): Access | undefined {
  return policyOf(method)?.access;
}
