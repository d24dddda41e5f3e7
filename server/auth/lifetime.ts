/**
 * Why a token lives too long for this server, or undefined when it does
 * not. A token's life is `exp - iat`, counted from now when `iat` is missing
 * or in the future (a token "issued" later than now is valid from now on).
 * A stolen token that never expires is a password that cannot be changed:
 * identity providers issue tokens for minutes or hours, so one valid for
 * longer than `maxTtlSeconds` (plus the clock tolerance) is refused even
 * when its signature is good.
 */
export function lifetimeExcess(
  claims: { readonly exp?: number | undefined; readonly iat?: number | undefined },
  nowSeconds: number,
  maxTtlSeconds: number,
  toleranceSeconds: number,
): string | undefined {
  if (claims.exp === undefined) return undefined;
  const start = claims.iat === undefined ? nowSeconds : Math.min(claims.iat, nowSeconds);
  const lifetime = claims.exp - start;
  if (lifetime <= maxTtlSeconds + toleranceSeconds) return undefined;
  return `the bearer token lives longer than this server accepts (${span(lifetime)}, at most ${span(maxTtlSeconds)}): ask for a shorter-lived one`;
}

/** A span of seconds as a person reads it: "200 years", "36 h", "90 min", "45 s". */
export function span(seconds: number): string {
  const whole = (value: number) => Math.floor(value * 10) / 10;
  if (seconds >= 2 * 365 * 86_400) return `${whole(seconds / (365.25 * 86_400))} years`;
  if (seconds >= 2 * 86_400) return `${whole(seconds / 86_400)} days`;
  if (seconds >= 2 * 3_600) return `${whole(seconds / 3_600)} h`;
  if (seconds >= 120) return `${whole(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}
