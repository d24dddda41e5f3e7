import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { startTestServer } from "../support/server.js";

// An identity provider as the server sees one: a key set served over HTTP
// (here by a local server), tokens signed with RS256 and ES256, and a key
// rotation in the middle of the test.

interface SigningKey {
  readonly kid: string;
  readonly alg: "RS256" | "ES256";
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string, alg: SigningKey["alg"]): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

const issuer = "https://id.example.test/";
const audience = "shop-api";

function sign(key: SigningKey, scope = "orders:write", kid = key.kid, aud = audience): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: key.alg, kid, typ: "JWT" })
    .setSubject(`user-of-${key.kid}`)
    .setIssuer(issuer)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(key.privateKey);
}

// The identity provider's JWKS endpoint: what it serves can change, or fail.
let published: SigningKey[] = [];
let failing = false;
let fetches = 0;
const jwks = http.createServer((req, res) => {
  fetches++;
  if (req.url !== "/.well-known/jwks.json" || failing) {
    res.writeHead(failing ? 503 : 404).end();
    return;
  }
  res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify({ keys: published.map((key) => key.jwk) }));
});
jwks.listen(0, "127.0.0.1");
await once(jwks, "listening");
const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;

const rsaOld = await signingKey("rsa-2026-01", "RS256");
const ec = await signingKey("ec-2026-01", "ES256");
const rsaNew = await signingKey("rsa-2026-02", "RS256");
published = [rsaOld, ec];

// No cooldown: a token naming a key the server has not seen makes it fetch the set again at once.
const server = await startTestServer({
  AUTH_JWKS_URL: jwksUrl,
  AUTH_ISSUER: issuer,
  AUTH_AUDIENCE: audience,
  AUTH_JWKS_COOLDOWN_MS: "0",
});
const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
after(async () => {
  await server.shutdown();
  jwks.close();
});

const createAs = (token: string) => orders.createOrder({ name: "Tea" }, { headers: { authorization: `Bearer ${token}` } });

test("tokens signed with RS256 and ES256 keys of the set are accepted; the set is fetched once and cached", async () => {
  assert.ok((await createAs(await sign(rsaOld))).order?.id);
  assert.ok((await createAs(await sign(ec))).order?.id);
  assert.ok((await createAs(await sign(rsaOld))).order?.id);
  assert.equal(fetches, 1);
  const logged = server.callLogs("/order.v1.OrderService/CreateOrder").map((record) => record.principal);
  assert.deepEqual(logged, ["user-of-rsa-2026-01", "user-of-ec-2026-01", "user-of-rsa-2026-01"]);
});

test("a token the identity provider signed for another application is refused", async () => {
  const error = await rejection(createAs(await sign(rsaOld, "orders:write", rsaOld.kid, "some-other-app")));
  assert.equal(error.code, Code.Unauthenticated);
  assert.equal(error.rawMessage, "the bearer token is meant for another audience (aud)");
  assert.equal(error.metadata.get("www-authenticate"), 'Bearer error="invalid_token"');
});

test("a key that is not in the set, or a public key used as an HMAC secret, is refused", async () => {
  const impostor = await signingKey("rsa-2026-01", "RS256"); // same kid, another key
  const forged = await rejection(createAs(await sign(impostor)));
  assert.equal(forged.code, Code.Unauthenticated);
  assert.equal(forged.rawMessage, "the bearer token is not valid");

  const unknown = await rejection(createAs(await sign(impostor, "orders:write", "nobody-knows-this-kid")));
  assert.equal(unknown.code, Code.Unauthenticated);
  assert.equal(unknown.rawMessage, "the bearer token is not valid");

  // The classic algorithm confusion: HS256 keyed with the RSA public key.
  const publicPem = await exportSPKI((await generateKeyPair("RS256", { extractable: true })).publicKey);
  const confused = await new SignJWT({ scope: "orders:write" })
    .setProtectedHeader({ alg: "HS256", kid: rsaOld.kid })
    .setSubject("mallory")
    .setIssuer(issuer)
    .setAudience(audience)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(publicPem));
  const refused = await rejection(createAs(confused));
  assert.equal(refused.code, Code.Unauthenticated);
  assert.equal(refused.rawMessage, "the bearer token is not valid");
});

test("a key rotation: the new key works as soon as it is published, the retired one stops", async () => {
  published = [rsaNew, ec];
  // Until the server fetches the set again, tokens signed before the rotation still pass.
  assert.ok((await createAs(await sign(rsaOld))).order?.id);
  const before = fetches;
  assert.ok((await createAs(await sign(rsaNew))).order?.id, "an unknown key id makes the server fetch the set again");
  assert.equal(fetches, before + 1);
  const retired = await rejection(createAs(await sign(rsaOld)));
  assert.equal(retired.code, Code.Unauthenticated);
  assert.equal(retired.rawMessage, "the bearer token is not valid");
  assert.ok((await createAs(await sign(ec))).order?.id, "keys that stayed in the set still work");
});

test("when the key set cannot be fetched: UNAVAILABLE for keys not seen yet, known keys keep working", async () => {
  failing = true;
  const newer = await signingKey("rsa-2026-03", "RS256");
  published = [newer, rsaNew, ec];
  const error = await rejection(createAs(await sign(newer)));
  assert.equal(error.code, Code.Unavailable);
  assert.match(error.rawMessage, /^bearer tokens cannot be checked right now/);
  assert.ok(
    server.logs.some((record) => record.msg === "cannot fetch the identity provider's key set (AUTH_JWKS_URL)"),
    "the operator is told why",
  );
  assert.ok((await createAs(await sign(rsaNew))).order?.id, "the cached set still verifies");
  failing = false;
  assert.ok((await createAs(await sign(newer))).order?.id, "and once the provider answers again, the new key works");
});
