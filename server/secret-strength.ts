/** Shortest HS256 secret accepted: as long as the hash (RFC 7518 §3.2). */
export const minSecretBytes = 32;
/** Fewest different byte values a secret must use: random bytes use far more, typed patterns far fewer. */
export const minDistinctSecretBytes = 8;

/** The rule a shared secret must follow, as the refusal and docs/security.md say it. */
export const secretRule =
  `at least ${minSecretBytes} bytes, using at least ${minDistinctSecretBytes} different byte values, ` +
  "and not a short pattern repeated; make one with: openssl rand -base64 32";

/**
 * Why `secret` is too weak to sign tokens with, or undefined when it is
 * not. Length alone is not strength: 32 times "a" is 32 bytes an attacker
 * guesses first. These checks catch what a person types instead of random
 * bytes (one character repeated, "abcd" repeated, a word padded out); they
 * cannot prove a secret random, so the message points to a random source.
 * The secret itself is never part of the answer.
 */
export function secretWeakness(secret: string): string | undefined {
  const bytes = Buffer.from(secret, "utf8");
  if (bytes.length < minSecretBytes) return `it is ${bytes.length} bytes long`;
  const distinct = new Set(bytes).size;
  if (distinct < minDistinctSecretBytes) return `it uses only ${distinct} different byte value${distinct === 1 ? "" : "s"}`;
  const period = shortestPeriod(bytes);
  if (period <= bytes.length / 2) return `it repeats a pattern of ${period} bytes`;
  return undefined;
}

/** The length of the shortest prefix that, repeated (the last time perhaps cut short), makes `bytes` (KMP failure function). */
function shortestPeriod(bytes: Uint8Array): number {
  const border = new Array<number>(bytes.length).fill(0);
  for (let i = 1, k = 0; i < bytes.length; i++) {
    while (k > 0 && bytes[i] !== bytes[k]) k = border[k - 1] ?? 0;
    if (bytes[i] === bytes[k]) k++;
    border[i] = k;
  }
  return bytes.length - (border[bytes.length - 1] ?? 0);
}
