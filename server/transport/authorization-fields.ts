/**
 * How many Authorization fields a request carries, from its raw header list
 * (names and values alternate). Node keeps only the first of several, on
 * HTTP/1.1 and HTTP/2 alike, so the parsed headers cannot tell; a proxy or
 * client that adds a second one must be told, not have one silently win
 * (the one checked might not be the one a proxy in front acted on).
 */
export function authorizationFields(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === 13 && name.toLowerCase() === "authorization") count++;
  }
  return count;
}
