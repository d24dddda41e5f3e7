import { SignJWT, UnsecuredJWT } from "jose";

/** The shared secret, issuer and audience test servers with authentication run with. */
export const testSecret = "a test secret, at least 32 bytes long";
export const testIssuer = "https://issuer.test/";
export const testAudience = "shop-api";
export const authEnv: Record<string, string> = { AUTH_JWT_SECRET: testSecret, AUTH_ISSUER: testIssuer, AUTH_AUDIENCE: testAudience };

export interface TokenOptions {
  readonly scope?: string;
  readonly sub?: string;
  readonly secret?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Seconds from now (negative: in the past); null leaves `exp` out. */
  readonly expiresIn?: number | null;
  /** Seconds from now when the token starts being valid. */
  readonly notBefore?: number;
}

/** An HS256 token as `npm run token` or an identity provider makes them, valid for the test servers unless told otherwise. */
export function mintToken({
  scope,
  sub = "tester",
  secret = testSecret,
  issuer = testIssuer,
  audience = testAudience,
  expiresIn = 600,
  notBefore,
}: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(scope === undefined ? {} : { scope })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setIssuer(issuer)
    .setAudience(audience);
  if (sub !== "") jwt.setSubject(sub);
  if (expiresIn !== null) jwt.setExpirationTime(now + expiresIn);
  if (notBefore !== undefined) jwt.setNotBefore(now + notBefore);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** What a client may send instead of a good token, by what is wrong with it, and the message each must get. */
export async function badAuthorizations(scope: string): Promise<Array<{ name: string; header: string; message: RegExp }>> {
  const bearer = (token: string) => `Bearer ${token}`;
  const unsecured = new UnsecuredJWT({ scope })
    .setSubject("tester")
    .setIssuer(testIssuer)
    .setAudience(testAudience)
    .setIssuedAt()
    .setExpirationTime("10m")
    .encode();
  return [
    // Expired beyond the 30 s clock tolerance.
    { name: "expired", header: bearer(await mintToken({ scope, expiresIn: -120 })), message: /^the bearer token has expired$/ },
    {
      name: "wrong signature",
      header: bearer(await mintToken({ scope, secret: "another secret, just as long as the real one" })),
      message: /^the bearer token is not valid$/,
    },
    {
      name: "wrong issuer",
      header: bearer(await mintToken({ scope, issuer: "https://elsewhere.test/" })),
      message: /issued by someone this server does not trust \(iss\)/,
    },
    {
      name: "wrong audience",
      header: bearer(await mintToken({ scope, audience: "other-api" })),
      message: /meant for another audience \(aud\)/,
    },
    { name: "alg none", header: bearer(unsecured), message: /^the bearer token is not valid$/ },
    { name: "garbage", header: bearer("garbage"), message: /^the bearer token is not valid$/ },
    { name: "three garbage parts", header: bearer("e30.e30.c2ln"), message: /^the bearer token is not valid$/ },
    { name: "not a bearer token", header: "Basic dXNlcjpwYXNzd29yZA==", message: /^the authorization header must be "Bearer <token>"$/ },
  ];
}
