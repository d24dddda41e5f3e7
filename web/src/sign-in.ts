import { byId, h } from "./dom.js";
import { clearError, showProblem } from "./errors.js";
import { currentToken, onSessionChange, onSignInRequested, readsNeedToken, signedOutBecause, signIn, signOut } from "./session.js";
import { parseToken, type Token } from "./token.js";

const until = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** "Signed in as tester", and what the token allows until when, for the header. */
function describeSignIn(token: Token): Array<Node | string> {
  const who = token.subject === undefined ? "Signed in" : `Signed in as ${token.subject}`;
  const facts = [
    token.scopes.length === 0 ? "no scopes" : token.scopes.join(" "),
    token.expiresAt === undefined ? undefined : `until ${until.format(token.expiresAt)}`,
  ].filter((fact) => fact !== undefined);
  return [h("strong", {}, who), h("span", { class: "facts" }, facts.join(" · "))];
}

/**
 * The sign-in control in the header (status, Sign in, Sign out) and its
 * dialog, where a person pastes a token. Refused calls open the dialog
 * through requestSignIn, saying why.
 */
export function setUpSignIn(problemFromAddress: string | undefined): void {
  const status = byId("session-status", HTMLParagraphElement);
  const openButton = byId("sign-in-open", HTMLButtonElement);
  const signOutButton = byId("sign-out", HTMLButtonElement);
  const dialog = byId("sign-in-dialog", HTMLDialogElement);
  const form = byId("sign-in-form", HTMLFormElement);
  const reason = byId("sign-in-reason", HTMLParagraphElement);
  const input = byId("sign-in-token", HTMLTextAreaElement);
  const sentWith = byId("sign-in-sent-with", HTMLSpanElement);
  const error = byId("sign-in-error", HTMLParagraphElement);
  const cancel = byId("sign-in-cancel", HTMLButtonElement);

  const render = () => {
    const token = currentToken();
    byId("session", HTMLDivElement).dataset.state = token === undefined ? "signed-out" : "signed-in";
    openButton.hidden = token !== undefined;
    signOutButton.hidden = token === undefined;
    sentWith.textContent = readsNeedToken()
      ? "with every call, because this server asks for a token on reads too"
      : "only with calls that change data and with reads of your orders";
    if (token !== undefined) return status.replaceChildren(...describeSignIn(token));
    const why = signedOutBecause() ?? (readsNeedToken() ? "This server needs a token for every call." : undefined);
    status.replaceChildren(h("strong", {}, "Not signed in"), why === undefined ? "" : h("span", { class: "facts" }, why));
  };

  /** The element that opened the dialog, to return to afterwards. */
  let opener: Element | null = null;

  const open = (why: string | undefined, problem?: string) => {
    opener = document.activeElement;
    reason.textContent = why ?? "";
    reason.hidden = why === undefined;
    input.value = "";
    if (problem === undefined) clearError(error);
    else showProblem(error, problem);
    dialog.showModal();
    input.focus();
  };

  /** Prompts left by refused calls are out of date once a token is in: they say so, and keep the focus if they had it. */
  const settlePrompts = (signedInAs: string) => {
    const returnTo = opener?.closest<HTMLElement>("[data-auth-prompt]");
    for (const prompt of document.querySelectorAll<HTMLElement>("[data-auth-prompt]")) {
      showProblem(prompt, `${signedInAs}: try again.`);
    }
    if (returnTo && document.activeElement === document.body) {
      returnTo.tabIndex = -1;
      returnTo.focus();
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = parseToken(input.value);
    if (typeof token === "string") {
      showProblem(error, token);
      input.focus();
      return;
    }
    input.value = "";
    signIn(token);
    dialog.close();
    settlePrompts(token.subject === undefined ? "Signed in" : `Signed in as ${token.subject}`);
  });
  // A token is one line: Enter signs in, as in a one-line field.
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    form.requestSubmit();
  });
  cancel.addEventListener("click", () => dialog.close());
  // Nothing typed stays in the page once the dialog is gone, however it closed.
  dialog.addEventListener("close", () => (input.value = ""));
  openButton.addEventListener("click", () => open(undefined));
  signOutButton.addEventListener("click", () => {
    signOut();
    openButton.focus();
  });

  onSessionChange(render);
  onSignInRequested((why) => open(why));
  render();
  if (problemFromAddress !== undefined) open(undefined, problemFromAddress);
}
