import { create } from "@bufbuild/protobuf";
import {
  GreeterService,
  LotsOfRepliesRequestSchema,
  SayHelloAgainRequestSchema,
  SayHelloRequestSchema,
} from "../../../gen/greeter/v1/greeter_pb.js";
import { client } from "../api.js";
import { byId, formatDuration, h } from "../dom.js";
import { clearError, isCancel, showError } from "../errors.js";
import { checkBeforeSending } from "../field-problem.js";
import { preloadRules } from "../rules.js";

export function setUpGreeter(): void {
  const form = byId("greet-form", HTMLFormElement);
  const name = byId("greet-name", HTMLInputElement);
  const delay = byId("greet-delay", HTMLSelectElement);
  const again = byId("greet-again", HTMLButtonElement);
  const stream = byId("greet-stream", HTMLButtonElement);
  const cancel = byId("greet-cancel", HTMLButtonElement);
  const result = byId("greet-result", HTMLOutputElement);
  const status = byId("greet-status", HTMLParagraphElement);
  const list = byId("greetings", HTMLOListElement);
  const error = byId("greet-error", HTMLParagraphElement);

  // The rules load while the name is typed, not when it is sent.
  name.addEventListener("focus", preloadRules, { once: true });

  const unary = async (method: "sayHello" | "sayHelloAgain") => {
    clearError(error);
    result.value = "";
    const allowed =
      method === "sayHello"
        ? checkBeforeSending(SayHelloRequestSchema, create(SayHelloRequestSchema, { name: name.value }), { name })
        : checkBeforeSending(SayHelloAgainRequestSchema, create(SayHelloAgainRequestSchema, { name: name.value }), { name });
    if (!(await allowed)) return;
    try {
      const { message } = await client(GreeterService)[method]({ name: name.value });
      result.value = message;
    } catch (failure) {
      showError(error, failure);
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void unary("sayHello");
  });
  again.addEventListener("click", () => void unary("sayHelloAgain"));

  let running: AbortController | undefined;
  cancel.addEventListener("click", () => running?.abort());

  stream.addEventListener("click", async () => {
    running?.abort();
    clearError(error);
    const request = create(LotsOfRepliesRequestSchema, { name: name.value, delayMs: Number(delay.value) });
    if (!(await checkBeforeSending(LotsOfRepliesRequestSchema, request, { name, delay_ms: delay }))) return;
    const controller = new AbortController();
    running = controller;
    list.replaceChildren();
    stream.disabled = true;
    cancel.disabled = false;
    status.textContent = "Waiting for the first greeting…";
    const started = performance.now();
    let received = 0;
    try {
      const replies = client(GreeterService).lotsOfReplies(request, { signal: controller.signal });
      for await (const { message, language } of replies) {
        received++;
        list.append(
          h(
            "li",
            {},
            h("span", { class: "lang" }, language),
            h("span", { class: "message", lang: language }, message),
            h("span", { class: "at" }, `+${formatDuration(performance.now() - started)}`),
          ),
        );
        status.textContent = `Streaming… ${received} received`;
      }
      status.textContent = `Done: ${received} greetings in ${formatDuration(performance.now() - started)}.`;
    } catch (failure) {
      if (isCancel(failure)) {
        status.textContent = `Cancelled after ${received} greeting${received === 1 ? "" : "s"}.`;
      } else {
        status.textContent = "";
        showError(error, failure);
      }
    } finally {
      if (running === controller) running = undefined;
      // Keep keyboard users in place: a disabled button would drop the focus.
      const cancelHadFocus = document.activeElement === cancel;
      stream.disabled = false;
      cancel.disabled = true;
      if (cancelHadFocus) stream.focus();
    }
  });
}
