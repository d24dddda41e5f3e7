import { Code, ConnectError } from "@connectrpc/connect";
import { authPrompt, isAuthRefusal } from "./auth-prompt.js";
import { h } from "./dom.js";

/** "INVALID_ARGUMENT", the way gRPC tools print status codes. */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** True when the call ended because this page cancelled it. */
export function isCancel(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Canceled;
}

/**
 * True when the request never got an answer: the browser reports a network
 * failure (fetch's TypeError), which connect-web turns into UNKNOWN.
 */
export function isNetworkFailure(error: ConnectError): boolean {
  return error.code === Code.Unknown && /fetch|network/i.test(error.rawMessage);
}

/** Why a call or stream failed, in words a person understands, for the codes a connection can end with. */
export function failureInWords(error: unknown): string {
  const connectError = ConnectError.from(error);
  if (isNetworkFailure(connectError)) return "the server cannot be reached (it stopped, is restarting, or the network is down)";
  switch (connectError.code) {
    case Code.Unavailable:
      return "the server is shutting down or restarting";
    case Code.DeadlineExceeded:
      return "the server took too long to answer";
    case Code.ResourceExhausted:
      return "the server is busy and asked this page to slow down";
    case Code.Unauthenticated:
      return "the server wants a token that it accepts";
    case Code.PermissionDenied:
      return "the token does not allow this";
    case Code.Internal:
    case Code.Unknown:
    case Code.DataLoss:
      return "the server ran into an error";
    default:
      return "the server refused it";
  }
}

/**
 * Shows a failed call inline: the status code and the server's message. A
 * request that never got an answer gets a hint, because the browser hides why;
 * a call refused for want of a (good enough) token says what to do, with a
 * button that opens the sign-in.
 */
export function showError(target: HTMLElement, error: unknown): void {
  const connectError = ConnectError.from(error);
  const code = h("span", { class: "code" }, codeName(connectError.code));
  delete target.dataset.authPrompt;
  if (isAuthRefusal(connectError)) {
    target.replaceChildren(code, " ", ...authPrompt(connectError));
    target.dataset.authPrompt = "";
  } else {
    const parts: Array<Node | string> = [code, " ", connectError.rawMessage];
    if (isNetworkFailure(connectError)) {
      parts.push(
        h("span", { class: "why" }, " — the server could not be reached, or it does not allow calls from this page's origin (CORS)."),
      );
    }
    target.replaceChildren(...parts);
  }
  target.hidden = false;
}

/** Shows a problem found before calling the server (for example an empty field). */
export function showProblem(target: HTMLElement, message: string): void {
  delete target.dataset.authPrompt;
  target.replaceChildren(message);
  target.hidden = false;
}

export function clearError(target: HTMLElement): void {
  delete target.dataset.authPrompt;
  target.replaceChildren();
  target.hidden = true;
}
