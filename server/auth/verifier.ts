import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from "jose";
import type { AuthConfig } from "../config.js";
import type { Logger } from "../logger.js";
import { tokenRejected, verificationUnavailable } from "./errors.js";
import { lifetimeExcess } from "./lifetime.js";
import type { Principal } from "./principal.js";

/**
 * How far another machine's clock may be off: a token is accepted up to this
 * long after its `exp` and this long before its `nbf`. Small, so an expired
 * token stops working within half a minute.
 */
export const clockToleranceSeconds = 30;

/**
 * What an identity provider may sign with: asymmetric algorithms only, so a
 * public key from the key set can never be used as an HMAC secret.
 */
const asymmetricAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

/** Checks a bearer token and says whose it is; throws the ConnectError the client gets otherwise. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

type JwtAuth = Extract<AuthConfig, { mode: "jwt" }>;

/**
 * Verifies JWTs with jose: the signature (HS256 with the shared secret, or a
 * key of the identity provider's JWKS, fetched, cached and refetched when a
 * token names a key not seen yet, which is how rotation works), `exp` and
 * `nbf` with a small tolerance, `iss` and `aud` when configured. The token
 * must name its subject (`sub`) and expire (`exp`), within AUTH_MAX_TOKEN_TTL_MS.
 */
export function createVerifier(auth: JwtAuth, logger: Logger): TokenVerifier {
  const { key, algorithms } = signingKeys(auth.keys);
  const maxTtlSeconds = auth.maxTokenTtlMs / 1000;
  const options: JWTVerifyOptions = {
    algorithms,
    clockTolerance: clockToleranceSeconds,
    requiredClaims: ["exp", "sub"],
    ...(auth.issuer !== undefined && { issuer: auth.issuer }),
    ...(auth.audience.length > 0 && { audience: [...auth.audience] }),
  };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, options));
      } catch (error) {
        if (error instanceof KeySetUnavailable) {
          logger.warn({ reason: describe(error.cause) }, "cannot fetch the identity provider's key set (AUTH_JWKS_URL)");
          throw verificationUnavailable();
        }
        if (error instanceof errors.JOSEError) throw tokenRejected(rejectionMessage(error));
        throw error;
      }
      if (typeof payload.sub !== "string" || payload.sub === "") throw tokenRejected('the bearer token has no "sub" claim');
      const excess = lifetimeExcess(payload, Math.floor(Date.now() / 1000), maxTtlSeconds, clockToleranceSeconds);
      if (excess !== undefined) throw tokenRejected(excess);
      const scopes = typeof payload.scope === "string" ? payload.scope.split(" ").filter((scope) => scope !== "") : [];
      return { subject: payload.sub, scopes: new Set(scopes) };
    },
  };
}

/** The key (or key set) and the algorithms it may verify. */
function signingKeys(keys: JwtAuth["keys"]): { key: Uint8Array | JWTVerifyGetKey; algorithms: string[] } {
  if (keys.kind === "secret") return { key: new TextEncoder().encode(keys.secret), algorithms: ["HS256"] };
  const remote = createRemoteJWKSet(new URL(keys.url), { cacheMaxAge: keys.cacheMaxAgeMs, cooldownDuration: keys.cooldownMs });
  // Only "no key matches this token" is the token's fault; a key set that
  // cannot be fetched or read is the server's problem, not a bad token.
  const key: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      const tokensFault =
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported;
      throw tokensFault ? error : new KeySetUnavailable(error);
    }
  };
  return { key, algorithms: asymmetricAlgorithms };
}

class KeySetUnavailable extends Error {
  constructor(cause: unknown) {
    super("the key set cannot be fetched", { cause });
  }
}

/**
 * What the client is told: which claim is wrong, or that the token is not
 * valid; never why a signature did not verify.
 */
function rejectionMessage(error: Error): string {
  if (error instanceof errors.JWTExpired) return "the bearer token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `the bearer token has no "${error.claim}" claim`;
    switch (error.claim) {
      case "nbf":
        return "the bearer token is not valid yet";
      case "iss":
        return "the bearer token was issued by someone this server does not trust (iss)";
      case "aud":
        return "the bearer token is meant for another audience (aud)";
      default:
        return `the bearer token's "${error.claim}" claim is not accepted`;
    }
  }
  return "the bearer token is not valid";
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
