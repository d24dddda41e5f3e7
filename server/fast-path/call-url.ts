/**
 * A call's URL, as `new URL(target, scheme://authority).toString()` writes
 * it, without parsing a URL per call: the origin of the last authority seen
 * is kept (every call on a connection names the same one), and a target of
 * characters the URL parser leaves as they are is appended to it.
 */
let lastBase = "";
let lastOrigin = "";

/** Characters the URL parser keeps as they are in a path and query (no percent-encoding). */
const keptTarget = /^\/(?![/\\])[\w\-~!$&()*+,;=:@/?%]*$/;
/** Dot segments, which the parser removes ("%2e" counts as a dot). */
const dotSegment = /\/(?:\.|%2e){1,2}(?:[/?]|$)/i;

export function callUrl(scheme: string, authority: string, target: string): string {
  const base = `${scheme}://${authority}`;
  if (!keptTarget.test(target) || dotSegment.test(target)) return new URL(target, base).toString();
  if (base !== lastBase) {
    lastOrigin = new URL(base).origin;
    lastBase = base;
  }
  return lastOrigin + target;
}
