import { Code, ConnectError } from "@connectrpc/connect";
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
 * Shows a failed call inline: the status code and the server's message. A
 * request that never got an answer gets a hint, because the browser hides why.
 */
export function showError(target: HTMLElement, error: unknown): void {
  const connectError = ConnectError.from(error);
  const parts: Array<Node | string> = [h("span", { class: "code" }, codeName(connectError.code)), " ", connectError.rawMessage];
  if (connectError.code === Code.Unknown && /fetch|network/i.test(connectError.rawMessage)) {
    parts.push(
      h("span", { class: "why" }, " — the server could not be reached, or it does not allow calls from this page's origin (CORS)."),
    );
  }
  target.replaceChildren(...parts);
  target.hidden = false;
}

/** Shows a problem found before calling the server (for example an empty field). */
export function showProblem(target: HTMLElement, message: string): void {
  target.replaceChildren(message);
  target.hidden = false;
}

export function clearError(target: HTMLElement): void {
  target.replaceChildren();
  target.hidden = true;
}
