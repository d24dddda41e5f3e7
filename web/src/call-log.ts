import { ConnectError, type ContextValues, createContextKey, createContextValues, type Interceptor } from "@connectrpc/connect";
import { byId, formatClock, formatDuration, h } from "./dom.js";
import { codeName } from "./errors.js";

/** One call as the page saw it. */
interface CallRecord {
  readonly procedure: string;
  readonly protocol: string;
  readonly startedAt: Date;
  readonly started: number;
  httpMethod: string;
  status: "pending" | "ok" | string;
  durationMs: number | undefined;
  /** Messages received so far, for streams. */
  messages: number | undefined;
  /** Whether the request carried the signed-in person's token. */
  readonly withToken: boolean;
  readonly row: HTMLTableRowElement;
}

const maxRows = 100;

/** The call the status line at the top describes: the last one a person started. */
let latest: CallRecord | undefined;

const backgroundKey = createContextKey(false, { description: "a call the page makes by itself" });

/**
 * Call options for calls the page makes by itself (a live stream and its
 * reconnects): they are logged, but do not take over the status line.
 */
export function inBackground(): { contextValues: ContextValues } {
  return { contextValues: createContextValues().set(backgroundKey, true) };
}

/**
 * The HTTP method each request really used, keyed by the call's signal: the
 * transport decides between GET and POST after interceptors run, so the only
 * place to see the decision is the fetch call itself.
 */
const httpMethods = new WeakMap<AbortSignal, string>();

export const recordingFetch: typeof fetch = (input, init) => {
  if (init?.signal) httpMethods.set(init.signal, init.method ?? "GET");
  return globalThis.fetch(input, init);
};

/** Logs every call: shown in the call log table and the status line at the top. */
export function callLogInterceptor(protocol: string): Interceptor {
  return (next) => async (req) => {
    const record = begin(
      `${req.service.name}/${req.method.name}`,
      protocol,
      req.header.has("authorization"),
      req.contextValues.get(backgroundKey),
    );
    const sawMethod = () => (record.httpMethod = httpMethods.get(req.signal) ?? req.requestMethod);
    try {
      const res = await next(req);
      sawMethod();
      if (!res.stream) {
        finish(record, undefined);
        return res;
      }
      record.messages = 0;
      update(record);
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          let outcome: unknown;
          try {
            for await (const message of messages) {
              record.messages = (record.messages ?? 0) + 1;
              update(record);
              yield message;
            }
          } catch (error) {
            outcome = error;
            throw error;
          } finally {
            // A consumer that stops early (cancel) ends here without an error.
            finish(record, outcome ?? (req.signal.aborted ? req.signal.reason : undefined));
          }
        })(),
      };
    } catch (error) {
      sawMethod();
      finish(record, error);
      throw error;
    }
  };
}

function begin(procedure: string, protocol: string, withToken: boolean, background: boolean): CallRecord {
  const row = h("tr", {});
  const record: CallRecord = {
    procedure,
    protocol,
    startedAt: new Date(),
    started: performance.now(),
    httpMethod: "POST",
    status: "pending",
    durationMs: undefined,
    messages: undefined,
    withToken,
    row,
  };
  if (!background) latest = record;
  const body = byId("call-log", HTMLTableSectionElement);
  body.prepend(row);
  while (body.rows.length > maxRows) body.rows[body.rows.length - 1]?.remove();
  update(record);
  return record;
}

function finish(record: CallRecord, error: unknown): void {
  record.durationMs = performance.now() - record.started;
  record.status = error === undefined ? "ok" : codeName(ConnectError.from(error).code);
  update(record);
}

function update(record: CallRecord): void {
  const duration = record.durationMs === undefined ? "…" : formatDuration(record.durationMs);
  const messages = record.messages === undefined ? "" : ` · ${record.messages} message${record.messages === 1 ? "" : "s"}`;
  const statusClass = record.status === "ok" ? "ok" : record.status === "pending" ? "pending" : "failed";
  record.row.replaceChildren(
    h("td", { class: "mono" }, formatClock(record.startedAt)),
    h("td", { class: "mono" }, record.procedure),
    h("td", {}, record.protocol),
    h("td", { class: "mono" }, record.httpMethod),
    h("td", {}, h("span", { class: `status ${statusClass}` }, record.status === "pending" ? "open" : record.status), messages),
    h("td", { class: "mono" }, duration),
    h("td", {}, record.withToken ? "sent" : h("span", { class: "none" }, "none")),
  );
  if (record !== latest) return;
  const line = byId("last-call", HTMLParagraphElement);
  line.dataset.status = statusClass;
  line.replaceChildren(
    h("span", { class: `status ${statusClass}` }, record.status === "pending" ? "open" : record.status),
    " ",
    h("span", { class: "mono" }, record.procedure),
    ` · ${record.protocol} · ${record.httpMethod} · ${duration}${messages}`,
  );
}

export function setUpCallLog(): void {
  byId("call-log-clear", HTMLButtonElement).addEventListener("click", () => {
    byId("call-log", HTMLTableSectionElement).replaceChildren();
  });
}
