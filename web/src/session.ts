import { parseToken, type Token } from "./token.js";

/*
 * Who is signed in on this page: a bearer token a person pasted (or brought
 * in the address as #token=…), and what the page has learnt about the server.
 *
 * The token lives in sessionStorage: it survives a reload of this tab, is
 * forgotten when the tab closes, and is never shared with other tabs or put in
 * localStorage, a cookie or the address.
 */

const tokenKey = "auth-token";
/** Set once a read was refused for want of a token (AUTH_REQUIRE_FOR_READS on the server). */
const readsKey = "auth-reads-need-token";

const maxTimerMs = 2 ** 31 - 1;

let current: Token | undefined;
let readsNeedTokenFlag = false;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;
/** Why the last token was given up without the person asking, for the sign-in status. */
let endedBecause: string | undefined;

const changeListeners = new Set<() => void>();
const readListeners = new Set<() => void>();
const promptListeners = new Set<(reason: string) => void>();

/** The signed-in person's token, or undefined when signed out. */
export function currentToken(): Token | undefined {
  return current;
}

/** True once the server refused a read without a token: from then on the token goes with every call. */
export function readsNeedToken(): boolean {
  return readsNeedTokenFlag;
}

/** Why the page signed out by itself (the token expired), until the next sign-in. */
export function signedOutBecause(): string | undefined {
  return endedBecause;
}

/** Runs `listener` whenever the sign-in state or what the page knows about the server changes. */
export function onSessionChange(listener: () => void): void {
  changeListeners.add(listener);
}

/**
 * Runs `listener` when reads would now get a different answer: reads need a
 * token and the token came or went, or the page just learnt that they do
 * while holding one. Panels that load data by themselves load it again.
 */
export function onReadCredentialsChange(listener: () => void): void {
  readListeners.add(listener);
}

/** Asks the sign-in control to open, saying why (a refused call's prompt does). */
export function requestSignIn(reason: string): void {
  for (const listener of promptListeners) listener(reason);
}

/** Runs `listener` when something asks the person to sign in. */
export function onSignInRequested(listener: (reason: string) => void): void {
  promptListeners.add(listener);
}

export function signIn(token: Token): void {
  current = token;
  endedBecause = undefined;
  sessionStorage.setItem(tokenKey, token.value);
  scheduleExpiry();
  changed(readsNeedTokenFlag);
}

export function signOut(because?: string): void {
  current = undefined;
  endedBecause = because;
  sessionStorage.removeItem(tokenKey);
  clearTimeout(expiryTimer);
  changed(readsNeedTokenFlag);
}

/** Called when the server refused a read that went without a token. */
export function noteReadsNeedToken(): void {
  if (readsNeedTokenFlag) return;
  readsNeedTokenFlag = true;
  sessionStorage.setItem(readsKey, "true");
  changed(current !== undefined);
}

function changed(readsChanged: boolean): void {
  for (const listener of changeListeners) listener();
  if (readsChanged) for (const listener of readListeners) listener();
}

/** Signs out when the token expires, so the status never claims a sign-in the server would refuse. */
function scheduleExpiry(): void {
  clearTimeout(expiryTimer);
  const expiresAt = current?.expiresAt;
  if (expiresAt === undefined) return;
  const delay = expiresAt.getTime() - Date.now();
  // setTimeout fires at once for delays beyond 2^31 - 1 ms (about 24 days): a token that lasts longer is looked at again then.
  if (delay > maxTimerMs) expiryTimer = setTimeout(scheduleExpiry, maxTimerMs);
  else expiryTimer = setTimeout(() => signOut(`Your token expired at ${expiresAt.toLocaleTimeString()}.`), delay);
}

/**
 * Restores this tab's sign-in, then takes a token handed over in the address
 * (#token=…) and removes it from there at once, so it is not left in the
 * history, a bookmark or a copied link. The fragment never reaches a server.
 * Returns a problem with a token from the address, for the sign-in control to
 * show, or undefined.
 */
export function restoreSession(): string | undefined {
  readsNeedTokenFlag = sessionStorage.getItem(readsKey) === "true";
  const stored = sessionStorage.getItem(tokenKey);
  if (stored !== null) {
    const token = parseToken(stored);
    if (typeof token === "string") {
      sessionStorage.removeItem(tokenKey);
      endedBecause = token;
    } else {
      current = token;
    }
  }
  scheduleExpiry();

  const fromAddress = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromAddress === null) return undefined;
  history.replaceState(history.state, "", location.pathname + location.search);
  const token = parseToken(fromAddress);
  if (typeof token === "string") return `The token in the address was not used. ${token}`;
  signIn(token);
  return undefined;
}
