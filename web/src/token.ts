/**
 * What the page can read from a bearer token a person pastes. The server
 * verifies every token; the page only decodes a JWT's claims (never checking
 * its signature) to say who is signed in, with which scopes, until when.
 */
export interface Token {
  /** The token itself, as sent in `authorization: Bearer <token>`. */
  readonly value: string;
  /** The `sub` claim, when the token is a JWT that has one. */
  readonly subject: string | undefined;
  /** The `scope` claim, split on spaces. */
  readonly scopes: readonly string[];
  /** When the token stops working (its `exp` claim), if it says. */
  readonly expiresAt: Date | undefined;
}

/**
 * The characters of a bearer token (RFC 6750 §2.1, "b64token"). Anything else
 * would make the header invalid, which fetch refuses and the server would too.
 */
const bearerSyntax = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads what a person pasted: the token alone or a whole "Bearer …" header
 * value, with stray spaces and line breaks from copying. Returns the token, or
 * a sentence saying what is wrong with it.
 */
export function parseToken(text: string, now = new Date()): Token | string {
  const value = text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^Bearer /i, "")
    .replace(/\s/g, "");
  if (value === "") return "Paste a token first.";
  if (!bearerSyntax.test(value)) return "That is not a bearer token: it has characters a token cannot have.";
  const claims = jwtClaims(value);
  if (claims === undefined) return { value, subject: undefined, scopes: [], expiresAt: undefined };
  const expiresAt = typeof claims.exp === "number" ? new Date(claims.exp * 1000) : undefined;
  if (expiresAt !== undefined && expiresAt <= now) return `This token expired on ${expiresAt.toLocaleString()}: make a new one.`;
  return {
    value,
    subject: typeof claims.sub === "string" && claims.sub !== "" ? claims.sub : undefined,
    scopes: typeof claims.scope === "string" ? claims.scope.split(" ").filter((scope) => scope !== "") : [],
    expiresAt,
  };
}

/** The payload of a JWT (header.payload.signature, base64url JSON), or undefined for any other kind of token. */
function jwtClaims(value: string): Record<string, unknown> | undefined {
  const payload = value.split(".")[1];
  if (value.split(".").length !== 3 || payload === undefined) return undefined;
  try {
    const binary = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const json: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0))));
    return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
