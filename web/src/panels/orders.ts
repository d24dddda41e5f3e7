import { create } from "@bufbuild/protobuf";
import { durationMs, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import {
  CreateOrderRequestSchema,
  type Order,
  OrderChangeType,
  OrderService,
  type WatchOrdersResponse,
} from "../../../gen/order/v1/order_pb.js";
import { client, onProtocolChange } from "../api.js";
import { isAuthRefusal } from "../auth-prompt.js";
import { inBackground } from "../call-log.js";
import { byId, debounce, formatDateTime, h, randomUuid } from "../dom.js";
import { clearError, codeName, failureInWords, showError, showProblem } from "../errors.js";
import { checkBeforeSending } from "../field-problem.js";
import { keepStreaming, type LinkState } from "../live-stream.js";
import { onSessionChange } from "../session.js";

/** One table row, kept across refreshes so a rename in progress survives live updates. */
interface Row {
  order: Order;
  readonly element: HTMLTableRowElement;
  readonly done: HTMLInputElement;
  readonly nameCell: HTMLTableCellElement;
  readonly dateCell: HTMLTableCellElement;
  readonly updatedCell: HTMLTableCellElement;
  readonly renameButton: HTMLButtonElement;
  editing: boolean;
}

const changeVerb: Record<OrderChangeType, string> = {
  [OrderChangeType.UNSPECIFIED]: "Changed",
  [OrderChangeType.CREATED]: "Created",
  [OrderChangeType.UPDATED]: "Updated",
  [OrderChangeType.DELETED]: "Deleted",
};

function when(timestamp: Order["date"]): string {
  return timestamp === undefined ? "—" : formatDateTime(timestampDate(timestamp));
}

/** What the live connection's status says, for each state. */
function linkInWords(state: LinkState): string {
  switch (state.kind) {
    case "connecting":
      return "Connecting…";
    case "live":
      return "Live";
    case "reconnecting": {
      const what = state.lost ? "Connection to the server lost" : "Cannot connect to the server";
      const why = state.failure === undefined ? "the server ended the live stream" : failureInWords(state.failure);
      return `${what}: ${why}. Reconnecting…`;
    }
    case "stopped":
      return ConnectError.from(state.failure).code === Code.PermissionDenied
        ? "Not live: your token does not allow watching orders."
        : "Not live: sign in to see orders as they change.";
  }
}

export function setUpOrders(): void {
  const connection = byId("orders-connection", HTMLDivElement);
  const connectionText = byId("orders-connection-text", HTMLSpanElement);
  const connectionCountdown = byId("orders-connection-countdown", HTMLSpanElement);
  const retryButton = byId("orders-retry", HTMLButtonElement);
  const createForm = byId("order-create", HTMLFormElement);
  const nameInput = byId("order-name", HTMLInputElement);
  const filter = byId("order-filter", HTMLSelectElement);
  const pageSize = byId("order-page-size", HTMLSelectElement);
  const activity = byId("order-activity", HTMLParagraphElement);
  const error = byId("order-error", HTMLParagraphElement);
  const body = byId("order-rows", HTMLTableSectionElement);
  const empty = byId("order-empty", HTMLParagraphElement);
  const prev = byId("order-prev", HTMLButtonElement);
  const next = byId("order-next", HTMLButtonElement);
  const pageLabel = byId("order-page", HTMLSpanElement);

  // ---- the table, one page at a time -------------------------------------

  /** Page tokens: [0] is "" (first page); [i] is the token that fetched page i + 1. */
  let pageTokens: string[] = [""];
  let nextPageToken = "";
  const rows = new Map<string, Row>();
  /** Ids changed by a live event, highlighted when they are next drawn. */
  const changed = new Set<string>();

  const completedFilter = (): boolean | undefined => (filter.value === "completed" ? true : filter.value === "open" ? false : undefined);

  let refreshing: Promise<void> | undefined;
  let refreshAgain = false;

  /** Fetches the current page again; calls made while one is running coalesce into one more. */
  const refresh = async (): Promise<void> => {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        await loadPage();
      } while (refreshAgain);
    })().finally(() => (refreshing = undefined));
    return refreshing;
  };

  /** Whether the error shown is the table's failure to load, which a later load clears. */
  let loadFailed = false;

  const loadPage = async () => {
    try {
      const pageIndex = pageTokens.length - 1;
      const response = await client(OrderService).listOrders({
        pageSize: Number(pageSize.value),
        pageToken: pageTokens[pageIndex] ?? "",
        completed: completedFilter(),
      });
      if (response.orders.length === 0 && pageIndex > 0) {
        // The last orders of this page are gone: show the page before it.
        pageTokens = pageTokens.slice(0, -1);
        return loadPage();
      }
      nextPageToken = response.nextPageToken;
      draw(response.orders);
      if (loadFailed) clearError(error);
      loadFailed = false;
    } catch (failure) {
      showError(error, failure);
      loadFailed = true;
    }
  };

  const draw = (orders: readonly Order[]) => {
    const seen = new Set<string>();
    orders.forEach((order, index) => {
      seen.add(order.id);
      const row = rows.get(order.id) ?? makeRow(order);
      updateRow(row, order);
      if (body.children[index] !== row.element) body.insertBefore(row.element, body.children[index] ?? null);
      if (changed.delete(order.id)) flash(row.element);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.element.remove();
        rows.delete(id);
      }
    }
    empty.hidden = orders.length > 0;
    const page = pageTokens.length;
    pageLabel.textContent = `Page ${page}`;
    prev.disabled = page === 1;
    next.disabled = nextPageToken === "";
  };

  const flash = (element: HTMLElement) => {
    element.classList.remove("flash");
    void element.offsetWidth; // restart the animation
    element.classList.add("flash");
  };

  const makeRow = (order: Order): Row => {
    const done = h("input", { type: "checkbox" });
    const nameCell = h("td", { class: "name" });
    const dateCell = h("td", { class: "when" });
    const updatedCell = h("td", { class: "when" });
    const renameButton = h("button", { type: "button", class: "small" }, "Rename");
    const deleteButton = h("button", { type: "button", class: "small danger" }, "Delete");
    const element = h(
      "tr",
      { "data-id": order.id },
      h("td", { class: "done" }, done),
      nameCell,
      dateCell,
      updatedCell,
      h("td", { class: "actions" }, renameButton, deleteButton),
    );
    const row: Row = { order, element, done, nameCell, dateCell, updatedCell, renameButton, editing: false };
    rows.set(order.id, row);

    done.addEventListener(
      "change",
      () => void mutate(() => client(OrderService).updateOrder({ id: row.order.id, completed: done.checked, etag: row.order.etag })),
    );
    deleteButton.addEventListener(
      "click",
      () => void mutate(() => client(OrderService).deleteOrder({ id: row.order.id, etag: row.order.etag })),
    );
    renameButton.addEventListener("click", () => startRename(row));
    return row;
  };

  const updateRow = (row: Row, order: Order) => {
    row.order = order;
    row.element.classList.toggle("completed", order.completed);
    row.done.checked = order.completed;
    row.done.setAttribute("aria-label", `Completed: ${order.name}`);
    if (!row.editing) row.nameCell.replaceChildren(order.name);
    row.renameButton.setAttribute("aria-label", `Rename ${order.name}`);
    row.element.querySelector(".danger")?.setAttribute("aria-label", `Delete ${order.name}`);
    row.dateCell.textContent = when(order.date);
    row.updatedCell.textContent = when(order.updateTime);
  };

  const startRename = (row: Row) => {
    row.editing = true;
    const input = h("input", { value: row.order.name, "aria-label": `New name for ${row.order.name}`, autocomplete: "off" });
    const save = h("button", { type: "submit", class: "small primary" }, "Save");
    const cancel = h("button", { type: "button", class: "small" }, "Cancel");
    const form = h("form", { class: "rename" }, input, save, cancel);
    const stop = () => {
      row.editing = false;
      row.nameCell.replaceChildren(row.order.name);
      row.renameButton.focus();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = input.value;
      void mutate(() => client(OrderService).updateOrder({ id: row.order.id, name, etag: row.order.etag })).then((ok) => {
        if (!ok) return;
        row.editing = false;
        row.nameCell.replaceChildren(name.trim());
        row.renameButton.focus();
      });
    });
    cancel.addEventListener("click", stop);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") stop();
    });
    row.nameCell.replaceChildren(form);
    input.select();
  };

  /** Runs a change, then redraws the page; a stale etag means someone else was faster. */
  const mutate = async (change: () => Promise<unknown>): Promise<boolean> => {
    clearError(error);
    loadFailed = false;
    try {
      await change();
      await refresh();
      return true;
    } catch (failure) {
      if (ConnectError.from(failure).code === Code.Aborted) {
        showProblem(
          error,
          `${codeName(Code.Aborted)} The order was changed elsewhere in the meantime; the table now shows its latest state.`,
        );
        await refresh();
      } else {
        showError(error, failure);
        // The table shows what the server holds: a checkbox ticked for a refused change is unticked again.
        for (const row of rows.values()) updateRow(row, row.order);
      }
      return false;
    }
  };

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(error);
    // One key per order: if this request is retried, the server creates the order once.
    const request = create(CreateOrderRequestSchema, { name: nameInput.value, idempotencyKey: randomUuid() });
    // The contract's rules (a name of 1 to 200 characters, no control characters), next to the field.
    if (!(await checkBeforeSending(CreateOrderRequestSchema, request, { name: nameInput }))) return;
    const created = await mutate(() => client(OrderService).createOrder(request));
    if (created) nameInput.value = "";
  });

  const firstPage = () => {
    pageTokens = [""];
    void refresh();
  };
  filter.addEventListener("change", firstPage);
  pageSize.addEventListener("change", firstPage);
  prev.addEventListener("click", () => {
    if (pageTokens.length > 1) pageTokens = pageTokens.slice(0, -1);
    void refresh();
  });
  next.addEventListener("click", () => {
    if (nextPageToken === "") return;
    pageTokens = [...pageTokens, nextPageToken];
    void refresh();
  });

  // ---- the live stream -------------------------------------------------------

  let countdown: ReturnType<typeof setInterval> | undefined;
  let shown: LinkState = { kind: "connecting" };

  /**
   * The connection in words: what happened and why, announced once (the
   * element is a status region), with the countdown to the next attempt
   * beside it, not announced, as it changes every second.
   */
  const showState = (state: LinkState) => {
    clearInterval(countdown);
    retryButton.hidden = state.kind !== "reconnecting";
    connectionCountdown.textContent = "";
    // While reconnecting, each attempt keeps the words of the failure before it, so they are not announced again.
    if (state.kind === "connecting" && shown.kind === "reconnecting") return;
    shown = state;
    connection.dataset.state = state.kind;
    // Unchanged words are left alone: writing them again would have them announced again.
    const words = linkInWords(state);
    if (connectionText.textContent !== words) connectionText.textContent = words;
    if (state.kind === "reconnecting") {
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((state.at - Date.now()) / 1000));
        connectionCountdown.textContent = `Next try in ${seconds} s.`;
      };
      tick();
      countdown = setInterval(tick, 1000);
    }
  };

  const describe = (change: WatchOrdersResponse) =>
    `${changeVerb[change.type]} “${change.order?.name ?? "?"}” at ${new Date().toLocaleTimeString()}`;

  const applyChange = debounce(() => void refresh(), 100);

  const watch = keepStreaming({
    open: (signal) => client(OrderService).watchOrders({}, { signal, ...inBackground() }),
    onState: showState,
    // Without a token the server accepts, retrying cannot help: the stream waits for a sign-in (below).
    stopOn: (failure) => isAuthRefusal(ConnectError.from(failure)),
    // The server ends each watch after MAX_WATCH_MS; the new stream's "started" re-reads the page, so nothing is missed.
    reopenAfter: (failure) => requestedReopenMs(ConnectError.from(failure)),
    onMessage: (change) => {
      if (change.started) {
        // The stream's first message: the server now listens, so every later
        // change arrives here. Reading the page now picks up what happened
        // before, including while disconnected.
        void refresh();
        return;
      }
      if (change.order === undefined) return;
      changed.add(change.order.id);
      activity.textContent = describe(change);
      applyChange();
    },
  });

  retryButton.addEventListener("click", () => watch.retryNow());
  window.addEventListener("online", () => watch.retryNow());
  const reopen = () => {
    watch.restart();
    void refresh();
  };
  onProtocolChange(reopen);
  // Orders are the signed-in person's own: another token, or none, shows other orders.
  onSessionChange(reopen);

  void refresh();
  watch.restart();
}

/** The delay the server asks for when it ends a watch on purpose (UNAVAILABLE with RetryInfo); undefined for any other failure. */
function requestedReopenMs(error: ConnectError): number | undefined {
  if (error.code !== Code.Unavailable) return undefined;
  const [retry] = error.findDetails(RetryInfoSchema);
  if (retry === undefined) return undefined;
  return Math.min(30_000, retry.retryDelay === undefined ? 0 : durationMs(retry.retryDelay));
}
