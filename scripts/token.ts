/**
 * Mints a bearer token signed with AUTH_JWT_SECRET (HS256), for local use and
 * tests; in production tokens come from your identity provider.
 *
 *   export AUTH_JWT_SECRET="$(openssl rand -base64 32)"
 *   npm run --silent token -- --scope "movies:write orders:write"
 *   npm run --silent token -- --scope orders:write --ttl 15m --sub alice --audience shop-api
 *
 * The token alone goes to stdout, so `TOKEN=$(npm run --silent token -- …)`
 * works. It carries AUTH_ISSUER and AUTH_AUDIENCE (or --audience, which
 * takes precedence) when they are set, so the server started with the same
 * environment accepts it.
 */
import { parseArgs } from "node:util";
import { decodeJwt, SignJWT } from "jose";
import { ConfigError, loadConfig } from "../server/config.js";

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(1);
}

const usage = 'usage: npm run --silent token -- --scope "movies:write orders:write" [--ttl 1h] [--sub name] [--audience api]';
let args: { scope: string; ttl: string; sub: string; audience?: string | undefined };
try {
  args = parseArgs({
    options: {
      scope: { type: "string", default: "" },
      ttl: { type: "string", default: "1h" },
      sub: { type: "string", default: "local-dev" },
      audience: { type: "string" },
    },
  }).values;
} catch (error) {
  fail(`${(error as Error).message}; ${usage}`);
}

let auth: ReturnType<typeof loadConfig>["auth"];
try {
  auth = loadConfig().auth;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(`configuration error: ${error.message}`);
}
if (auth.mode !== "jwt" || auth.keys.kind !== "secret") {
  fail("set AUTH_JWT_SECRET (the server's shared secret) first; with AUTH_JWKS_URL, tokens come from your identity provider");
}

const scope = args.scope
  .split(/\s+/)
  .filter((one) => one !== "")
  .join(" ");
const token = new SignJWT({ ...(scope !== "" && { scope }) })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(args.sub)
  .setIssuedAt();
if (auth.issuer !== undefined) token.setIssuer(auth.issuer);
// The audience the server checks (comma-separated, like AUTH_AUDIENCE).
const audience =
  args.audience
    ?.split(",")
    .map((one) => one.trim())
    .filter((one) => one !== "") ?? auth.audience;
if (audience.length > 0) token.setAudience([...audience]);
try {
  token.setExpirationTime(args.ttl);
} catch {
  fail(`--ttl must be a time span such as 90s, 15m, 1h or 7d, got "${args.ttl}"`);
}
const signed = await token.sign(new TextEncoder().encode(auth.keys.secret));
// A token the server would refuse is no use: say so now rather than at the first call.
const { iat = 0, exp = 0 } = decodeJwt(signed);
if ((exp - iat) * 1000 > auth.maxTokenTtlMs) {
  fail(`--ttl ${args.ttl} is longer than the server accepts (AUTH_MAX_TOKEN_TTL_MS=${auth.maxTokenTtlMs})`);
}
process.stdout.write(`${signed}\n`);
