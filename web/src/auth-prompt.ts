import { Code, type ConnectError } from "@connectrpc/connect";
import { h } from "./dom.js";
import { currentToken, readsNeedToken, requestSignIn } from "./session.js";

/** A call the server refused for want of a token, or of a scope the token lacks. */
export function isAuthRefusal(error: ConnectError): boolean {
  return error.code === Code.Unauthenticated || error.code === Code.PermissionDenied;
}

/**
 * The scope the server's challenge names (`WWW-Authenticate: Bearer
 * error="insufficient_scope", scope="movies:write"`, RFC 6750 §3): an HTTP
 * header on Connect, a trailer on gRPC-Web, in the error's metadata either way.
 */
function challengedScope(error: ConnectError): string | undefined {
  return /\bscope="([^"]*)"/.exec(error.metadata.get("www-authenticate") ?? "")?.[1];
}

const quoted = (text: string) => `“${text}”`;

/**
 * What a person reads when a call is refused by authentication, and what to
 * do about it: sign in, sign in again, or use a token with more scopes. The
 * button opens the sign-in with the same sentence as its reason.
 */
export function authPrompt(error: ConnectError): Array<Node | string> {
  const token = currentToken();
  let sentence: string;
  let action: string;
  let detail: string | undefined;
  if (error.code === Code.PermissionDenied) {
    const scope = challengedScope(error);
    const held =
      token === undefined ? "" : token.scopes.length === 0 ? " Yours has none." : ` Yours has ${token.scopes.map(quoted).join(", ")}.`;
    sentence =
      scope === undefined
        ? `Your token does not allow this: ${error.rawMessage}.`
        : `Your token does not allow this: it needs the scope ${quoted(scope)}.${held}`;
    action = "Use another token…";
  } else if (token === undefined) {
    sentence = readsNeedToken()
      ? "Sign in to use this server: it needs a token for every call, reads too."
      : "Sign in to make changes: this server needs a token for them.";
    action = "Sign in…";
    // The server names the scope the change needs.
    detail = `The server says: ${error.rawMessage}`;
  } else {
    sentence = `Your token was not accepted: ${error.rawMessage}.`;
    action = "Sign in again…";
  }
  const button = h("button", { type: "button", class: "small" }, action);
  button.addEventListener("click", () => requestSignIn(sentence));
  return [sentence, " ", button, detail === undefined ? "" : h("span", { class: "server-says" }, detail)];
}
