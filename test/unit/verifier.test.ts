import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { generateKeyPair, SignJWT } from "jose";
import { bearerToken } from "../../server/auth/bearer.js";
import { clockToleranceSeconds, createVerifier } from "../../server/auth/verifier.js";
import { memoryLogger } from "../support/logs.js";
import { badAuthorizations, mintToken, testAudience, testIssuer, testSecret } from "../support/tokens.js";

const verifier = createVerifier(
  {
    mode: "jwt",
    keys: { kind: "secret", secret: testSecret },
    issuer: testIssuer,
    audience: [testAudience],
    maxTokenTtlMs: 24 * 60 * 60_000,
    requireForReads: false,
  },
  memoryLogger().logger,
);

async function refusal(token: string): Promise<ConnectError> {
  const error = await verifier.verify(token).then(
    () => assert.fail("expected the token to be refused"),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof ConnectError, String(error));
  assert.equal(error.code, Code.Unauthenticated);
  assert.equal(error.metadata.get("www-authenticate"), 'Bearer error="invalid_token"');
  return error;
}

describe("token verification (HS256 shared secret)", () => {
  test("a good token gives its subject and scopes", async () => {
    const principal = await verifier.verify(await mintToken({ sub: "alice", scope: " movies:write  orders:write " }));
    assert.equal(principal.subject, "alice");
    assert.deepEqual([...principal.scopes], ["movies:write", "orders:write"]);
    assert.deepEqual([...(await verifier.verify(await mintToken())).scopes], [], "no scope claim, no scopes");
  });

  test("every bad token is refused with a message that says what is wrong, never more", async () => {
    for (const { name, header, message } of await badAuthorizations("movies:write")) {
      if (!header.startsWith("Bearer ")) continue;
      const error = await refusal(header.slice("Bearer ".length));
      assert.match(error.rawMessage, message, name);
      assert.doesNotMatch(error.rawMessage, /signature|HMAC|verification failed/i, `${name}: no detail about the signature`);
    }
  });

  test(`clocks may be ${clockToleranceSeconds} s apart, not more`, async () => {
    await verifier.verify(await mintToken({ expiresIn: -10 }));
    await verifier.verify(await mintToken({ notBefore: 10 }));
    assert.match((await refusal(await mintToken({ expiresIn: -60 }))).rawMessage, /has expired/);
    assert.match((await refusal(await mintToken({ notBefore: 60 }))).rawMessage, /is not valid yet/);
  });

  test("a token must name its subject and expire", async () => {
    assert.match((await refusal(await mintToken({ sub: "" }))).rawMessage, /^the bearer token has no "sub" claim$/);
    assert.match((await refusal(await mintToken({ expiresIn: null }))).rawMessage, /^the bearer token has no "exp" claim$/);
  });

  test("a token that lives longer than AUTH_MAX_TOKEN_TTL_MS (24 h here) is refused, however well signed", async () => {
    await verifier.verify(await mintToken({ expiresIn: 24 * 3_600 }));
    const centuries = await refusal(await mintToken({ expiresIn: 200 * 365.25 * 86_400 }));
    assert.match(centuries.rawMessage, /^the bearer token lives longer than this server accepts \(200 years, at most 24 h\)/);
    assert.match((await refusal(await mintToken({ expiresIn: 25 * 3_600 }))).rawMessage, /\(25 h, at most 24 h\)/);
    // Without iat, the life left counts.
    const noIat = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(testIssuer)
      .setAudience(testAudience)
      .setExpirationTime("30d")
      .sign(new TextEncoder().encode(testSecret));
    assert.match((await refusal(noIat)).rawMessage, /lives longer than this server accepts \(30 days, at most 24 h\)/);
  });

  test("only HS256: another HMAC size or an RSA signature is refused", async () => {
    const claims = { sub: "alice", iss: testIssuer, aud: testAudience };
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(testSecret.repeat(2)));
    assert.match((await refusal(hs512)).rawMessage, /^the bearer token is not valid$/);
    const { privateKey } = await generateKeyPair("RS256");
    const rs256 = await new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).setExpirationTime("5m").sign(privateKey);
    assert.match((await refusal(rs256)).rawMessage, /^the bearer token is not valid$/);
  });
});

describe("the authorization header", () => {
  const header = (value?: string) => new Headers(value === undefined ? {} : { authorization: value });

  test("Bearer <token>, the scheme in any case", () => {
    assert.equal(bearerToken(header()), undefined);
    assert.equal(bearerToken(header("Bearer abc.def.ghi")), "abc.def.ghi");
    assert.equal(bearerToken(header("bearer abc.def.ghi")), "abc.def.ghi");
    assert.equal(bearerToken(header("BEARER  abc-_~+/==")), "abc-_~+/==");
  });

  test("anything else is UNAUTHENTICATED, not ignored", () => {
    for (const value of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Bearer a, Bearer b", "abc.def.ghi"]) {
      assert.throws(
        () => bearerToken(header(value)),
        (error: unknown) =>
          error instanceof ConnectError &&
          error.code === Code.Unauthenticated &&
          error.metadata.get("www-authenticate") === "Bearer" &&
          error.rawMessage === 'the authorization header must be "Bearer <token>"',
        value,
      );
    }
  });
});
