import { createContextKey } from "@connectrpc/connect";

/** Who made a call, as a verified bearer token says. */
export interface Principal {
  /** The token's `sub` claim: the user or client the identity provider vouches for. */
  readonly subject: string;
  /** The token's `scope` claim, split on spaces. */
  readonly scopes: ReadonlySet<string>;
}

/** The caller of the current call, once the auth interceptor has verified its token; undefined for anonymous calls. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated caller" });

/** The scope that allowed a call that changes data, for the audit trail in the call log. */
export const grantKey = createContextKey<string | undefined>(undefined, { description: "scope that allowed the call" });
