import { randomUUID } from "node:crypto";
import { ChangeBuffer } from "./change-buffer.js";
import { ConflictError, NotFoundError, ResourceExhaustedError, UnavailableError, ValidationError } from "./errors.js";
import { Instant } from "./instant.js";
import { preview, uuidPattern } from "./text.js";

/**
 * One order. Its date, which clients choose, is kept to the microsecond; the
 * create and update times, the server's own clock, to the millisecond.
 */
export interface Order {
  readonly id: string;
  /** Who created it: a token's subject, or anonymousOwner. */
  readonly owner: string;
  readonly name: string;
  readonly completed: boolean;
  readonly date: Instant;
  readonly createTime: Date;
  readonly updateTime: Date;
  /** Starts at 1 and grows by one with every update; the etag is made from it. */
  readonly version: number;
}

export type OrderChangeType = "created" | "updated" | "deleted";

/** What happened to an order; for a delete, the order as it was. */
export interface OrderChange {
  readonly type: OrderChangeType;
  readonly order: Order;
}

/** What a WatchOrders stream carries: first "started", then one change after another. */
export type WatchEvent = { readonly type: "started" } | OrderChange;

export interface NewOrder {
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  readonly completed: boolean;
  /** Undefined means the creation time. */
  readonly date: Instant | undefined;
  /** A key is unique per owner: another owner's use of the same key is unrelated. */
  readonly idempotency: { readonly key: string; readonly fingerprint: string } | undefined;
}

/**
 * The owner of orders made without a token: with authentication off, every
 * order; with it on, those of anonymous callers (none can create any while
 * changes need a token). No token can be this owner: a token's subject is
 * never empty.
 */
export const anonymousOwner = "";

/** Who is asking, as far as orders are concerned. */
export interface OrderCaller {
  /** The owner of the orders it creates, and the only one whose orders it sees and changes unless `admin`. */
  readonly owner: string;
  /** Sees and changes every owner's orders. */
  readonly admin: boolean;
}

export const anonymousCaller: OrderCaller = { owner: anonymousOwner, admin: false };

/** Whose orders a query may reach: one owner's, or (undefined) everyone's. */
export type OwnerFilter = string | undefined;

export interface OrderPatch {
  readonly name?: string;
  readonly completed?: boolean;
  readonly date?: Instant;
}

/** Where a page starts: just after this order in (create time, id) order, or just before it when newest first. */
export interface PagePosition {
  readonly createTime: Date;
  readonly id: string;
}

export interface OrderPageQuery {
  readonly owner: OwnerFilter;
  readonly limit: number;
  readonly after: PagePosition | undefined;
  readonly completed: boolean | undefined;
  /** Newest first instead of oldest first. */
  readonly newestFirst?: boolean;
}

/** The result of a change guarded by an expected version. */
export type GuardedWrite =
  | { readonly outcome: "done"; readonly order: Order }
  | { readonly outcome: "not-found" }
  | { readonly outcome: "stale"; readonly order: Order };

/** Receives committed changes, from this process and every other one sharing the database. */
export interface OrderChangeListener {
  onChange(change: OrderChange): void;
  /** The feed broke (the database went away or the server is stopping): changes may be missed from here on. */
  onEnd(error: Error): void;
}

/**
 * Where orders are kept. Each write is one transaction that also publishes
 * its change; implementations hold the SQL, this module holds the rules.
 */
export interface OrderRepository {
  /**
   * Stores the order, unless its owner used its idempotency key before:
   * then nothing is written and the earlier order comes back with the
   * fingerprint of the request that created it.
   */
  create(order: NewOrder): Promise<{ order: Order; created: boolean; fingerprint: string | undefined }>;
  /** An order of another owner than `owner` is as absent as one that does not exist. */
  get(id: string, owner: OwnerFilter): Promise<Order | undefined>;
  update(id: string, owner: OwnerFilter, patch: OrderPatch, expectedVersion: number | undefined): Promise<GuardedWrite>;
  delete(id: string, owner: OwnerFilter, expectedVersion: number | undefined): Promise<GuardedWrite>;
  /** Orders by create time then id, `limit` of them at most. */
  list(query: OrderPageQuery): Promise<Order[]>;
  /** Resolves once `listener` is subscribed; call the function it resolves to to unsubscribe. */
  watch(listener: OrderChangeListener): Promise<() => void>;
}

/**
 * What a request must look like (names of 1 to 200 characters, ids that are
 * UUIDs, a page size that is not negative) is in the contract
 * (proto/order/v1) and checked before a call reaches its handler. What stays
 * here needs the server's own knowledge: etags and page tokens it issued,
 * dates it can store, keys it has seen.
 */
export const maxPageTokenLength = 200;
/** Etags are "v" and a version number; spaces around one are forgiven. */
const maxEtagLength = 32;
export const defaultPageSize = 50;
export const maxPageSize = 500;
/** The range of google.protobuf.Timestamp, which every client library can represent. */
const earliestDate = Instant.fromEpochMicros(-62_135_596_800_000_000n); // 0001-01-01T00:00:00Z
const latestDate = Instant.fromEpochMicros(253_402_300_799_999_999n); // 9999-12-31T23:59:59.999999Z

export interface OrdersOptions {
  /** Changes a watcher may fall behind by before its stream is ended. */
  readonly watchBufferLimit: number;
}

/** The rules for orders, over any repository. */
export class Orders {
  private readonly watches = new Set<ChangeBuffer<OrderChange>>();

  constructor(
    private readonly repository: OrderRepository,
    private readonly options: OrdersOptions,
  ) {}

  /** Creates an order; with an idempotency key, a retry returns the first order and creates nothing. */
  async create(
    caller: OrderCaller,
    input: { name: string; completed: boolean; date: Instant | undefined; idempotencyKey: string },
  ): Promise<Order> {
    const name = input.name.trim();
    const date = input.date === undefined ? undefined : checkDate("date", input.date);
    const key = input.idempotencyKey.trim();
    // Only a key needs one: it tells a retry from a different order made with the same key.
    const fingerprint = key === "" ? undefined : JSON.stringify([name, input.completed, fingerprintDate(date)]);
    const result = await this.repository.create({
      id: randomUUID(),
      owner: caller.owner,
      name,
      completed: input.completed,
      date,
      idempotency: fingerprint === undefined ? undefined : { key, fingerprint },
    });
    if (!result.created && result.fingerprint !== fingerprint) {
      throw new ValidationError(
        "idempotency_key",
        "reused",
        `idempotency_key "${preview(key)}" was already used for a different order (${result.order.id}); use a new key for a new order`,
      );
    }
    return result.order;
  }

  /**
   * Another owner's order is NOT_FOUND with the same message as a missing
   * one, so a caller cannot tell whether an id exists.
   */
  async get(caller: OrderCaller, id: string): Promise<Order> {
    const orderId = canonicalUuid(id);
    const order = await this.repository.get(orderId, reach(caller));
    if (order === undefined) throw notFound(orderId);
    return order;
  }

  /** Changes the fields given; with an etag, only if the order is still at that version. */
  async update(
    caller: OrderCaller,
    id: string,
    changes: { name?: string; completed?: boolean; date?: Instant },
    etag: string,
  ): Promise<Order> {
    const orderId = canonicalUuid(id);
    const patch: { -readonly [K in keyof OrderPatch]: OrderPatch[K] } = {};
    if (changes.name !== undefined) patch.name = changes.name.trim();
    if (changes.completed !== undefined) patch.completed = changes.completed;
    if (changes.date !== undefined) patch.date = checkDate("date", changes.date);
    return guarded(orderId, etag, await this.repository.update(orderId, reach(caller), patch, parseEtag(etag)));
  }

  async delete(caller: OrderCaller, id: string, etag: string): Promise<Order> {
    const orderId = canonicalUuid(id);
    return guarded(orderId, etag, await this.repository.delete(orderId, reach(caller), parseEtag(etag)));
  }

  /** One page, oldest first; `pageToken` is the `nextPageToken` of the page before. */
  async list(
    caller: OrderCaller,
    query: {
      pageSize: number;
      pageToken: string;
      completed: boolean | undefined;
    },
  ): Promise<{ orders: Order[]; nextPageToken: string }> {
    const pageSize = query.pageSize === 0 ? defaultPageSize : Math.min(query.pageSize, maxPageSize);
    const after = query.pageToken === "" ? undefined : decodePageToken(query.pageToken, query.completed);
    // One more than asked tells whether another page follows, without a count.
    const rows = await this.repository.list({ owner: reach(caller), limit: pageSize + 1, after, completed: query.completed });
    const orders = rows.slice(0, pageSize);
    const last = orders.at(-1);
    const nextPageToken = rows.length > pageSize && last !== undefined ? encodePageToken(last, query.completed) : "";
    return { orders, nextPageToken };
  }

  /**
   * The newest maxPageSize orders, listed oldest first, for contracts that
   * have no paging: one answer stays bounded however many orders there are,
   * and an order just created is always in it.
   */
  async newest(caller: OrderCaller): Promise<Order[]> {
    const orders = await this.repository.list({
      owner: reach(caller),
      limit: maxPageSize,
      after: undefined,
      completed: undefined,
      newestFirst: true,
    });
    return orders.reverse();
  }

  /**
   * Streams every committed change to the caller's orders (an admin's: to
   * everyone's) from now on. The first event, "started",
   * comes once the subscription is live: any change committed after the
   * client sees it is delivered. The stream ends with RESOURCE_EXHAUSTED if
   * the client reads too slowly, and with UNAVAILABLE if the change feed
   * breaks or the server stops, since changes could then be missed.
   */
  async *watch(caller: OrderCaller, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const limit = this.options.watchBufferLimit;
    const buffer = new ChangeBuffer<OrderChange>(
      limit,
      () =>
        new ResourceExhaustedError(
          `this watcher fell more than ${limit} changes behind and was stopped; read faster, then list the orders again and reopen the watch`,
        ),
    );
    const unsubscribe = await this.repository.watch({
      // Filtered before the buffer, so other owners' changes never count against this watcher's limit.
      onChange: (change) => {
        if (caller.admin || change.order.owner === caller.owner) buffer.push(change);
      },
      onEnd: (error) => buffer.end(error),
    });
    this.watches.add(buffer);
    try {
      yield { type: "started" };
      yield* buffer.read(signal);
    } finally {
      this.watches.delete(buffer);
      unsubscribe();
    }
  }

  /** Open WatchOrders streams in this process. */
  get watchCount(): number {
    return this.watches.size;
  }

  /** Changes waiting in open watches for their clients to read them (each watch holds at most watchBufferLimit). */
  get bufferedChanges(): number {
    let total = 0;
    for (const buffer of this.watches) total += buffer.size;
    return total;
  }

  /** Ends every open watch with UNAVAILABLE, e.g. when the server starts shutting down. */
  endWatches(reason: string): void {
    for (const buffer of this.watches) buffer.end(new UnavailableError(`${reason}; reopen the watch`));
  }
}

/** The repository's owner filter for what `caller` may reach. */
function reach(caller: OrderCaller): OwnerFilter {
  return caller.admin ? undefined : caller.owner;
}

/** The opaque etag of an order's current version. */
export function etagOf(order: Order): string {
  return `v${order.version}`;
}

function parseEtag(etag: string): number | undefined {
  if (etag === "") return undefined;
  // "v" and at most 10 digits, so anything much longer is refused unread.
  const match = etag.length > maxEtagLength ? null : /^v([1-9]\d{0,9})$/.exec(etag.trim());
  if (match?.[1] === undefined) {
    throw new ValidationError(
      "etag",
      "format",
      `etag "${preview(etag)}" is not one this server issued; send the etag of an order you read`,
    );
  }
  return Number(match[1]);
}

function guarded(id: string, etag: string, write: GuardedWrite): Order {
  switch (write.outcome) {
    case "done":
      return write.order;
    case "not-found":
      throw notFound(id);
    case "stale":
      throw new ConflictError(
        `order ${id} changed since etag ${etag} was read (it is now at ${etagOf(write.order)}); read it again and retry`,
      );
  }
}

function checkDate(field: string, date: Instant): Instant {
  if (date.compare(earliestDate) < 0 || date.compare(latestDate) > 0) {
    throw new ValidationError(field, "range", `${field} must be between 0001-01-01 and 9999-12-31 (UTC)`);
  }
  return date;
}

/**
 * The date as the idempotency fingerprint has it: milliseconds since the
 * epoch as before dates kept microseconds, so a retry of an order created
 * then still matches; the microseconds, as text, only when there are any.
 */
function fingerprintDate(date: Instant | undefined): number | string | null {
  if (date === undefined) return null;
  return date.hasSubMillis ? date.epochMicros.toString() : date.epochMillis;
}

/** The contract's rules let through only UUIDs, perhaps with spaces around them; stored lowercase. */
function canonicalUuid(id: string): string {
  return id.trim().toLowerCase();
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`no order has id ${id}`);
}

interface PageToken {
  /** Create time of the last order of the page, in ms since the epoch. */
  readonly t: number;
  readonly i: string;
  /** The completed filter the token was made for. */
  readonly c: boolean | null;
}

function encodePageToken(last: Order, completed: boolean | undefined): string {
  const token: PageToken = { t: last.createTime.getTime(), i: last.id, c: completed ?? null };
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodePageToken(pageToken: string, completed: boolean | undefined): PagePosition {
  const invalid = () =>
    new ValidationError("page_token", "format", "page_token is not valid: pass the next_page_token of the previous page unchanged");
  // Tokens this server issues are about 100 characters: a longer one is refused before it is decoded.
  if (pageToken.length > maxPageTokenLength) throw invalid();
  let token: Partial<PageToken>;
  try {
    token = JSON.parse(Buffer.from(pageToken, "base64url").toString("utf8")) as Partial<PageToken>;
  } catch {
    throw invalid();
  }
  // Anything but what encodePageToken makes (e.g. JSON null, a time out of
  // range) is refused here rather than reaching the database, which would
  // fail on a time beyond its own range (before 4713 BC).
  const millis = token?.t;
  const time =
    typeof millis === "number" && Number.isInteger(millis) && millis >= earliestDate.epochMillis && millis <= latestDate.epochMillis
      ? new Date(millis)
      : undefined;
  const id = typeof token?.i === "string" && uuidPattern.test(token.i) ? token.i.toLowerCase() : undefined;
  const filter = token?.c ?? null;
  if (time === undefined || id === undefined || (filter !== null && typeof filter !== "boolean")) throw invalid();
  if (filter !== (completed ?? null)) {
    throw new ValidationError(
      "page_token",
      "filter_changed",
      "page_token was made for a different completed filter: keep the filter the same while paging",
    );
  }
  return { createTime: time, id };
}
