import {
  type Kysely,
  type QueryCreator,
  type Selectable,
  type SelectQueryBuilder,
  sql,
  type Transaction,
  type WhereInterface,
} from "kysely";
import { UnavailableError } from "../domain/errors.js";
import { Instant } from "../domain/instant.js";
import type {
  GuardedWrite,
  NewOrder,
  Order,
  OrderChange,
  OrderChangeListener,
  OrderChangeType,
  OrderPageQuery,
  OrderPatch,
  OrderRepository,
  OwnerFilter,
} from "../domain/orders.js";
import { anonymousOwner } from "../domain/orders.js";
import type { Logger } from "../logger.js";
import type { ChangeFeed, Engine, EngineSql, NewOrderColumns, NewOrderRow } from "./engine.js";
import { isConnectionFailure } from "./failures.js";
import { guard } from "./guard.js";
import type { OrderRow, Tables } from "./schema.js";
import { StatementTemplate } from "./statement-template.js";
import { TurnBatches } from "./turn-batch.js";

/** The most new orders one statement writes (see insertMany). */
const insertBatchLimit = 100;

/**
 * Orders in SQL. Every write is one transaction that also publishes its
 * change (engine.ts: NOTIFY on PostgreSQL, in-process on SQLite), so the
 * change reaches listeners in every process if and only if it commits, in
 * commit order. Where the engine can (EngineSql.orderChangeNotice), the
 * write and its change are one statement in autocommit: one round trip. The payload is the order itself: names are at most 200
 * characters, so it stays far below NOTIFY's 8000-byte limit, and no
 * listener has to read a row that may have changed again since.
 */
export class SqlOrderRepository implements OrderRepository {
  private readonly listeners = new Set<OrderChangeListener>();
  /** Watches waiting for the feed to be live; they count as wanting changes. */
  private subscribing = 0;
  private feed: ChangeFeed = { want: async () => {} };
  private readonly columns: ReturnType<typeof orderColumns>;
  /** CreateOrder's one statement (with orderChangeNotice): for an order with a date, and for one dated by the database. */
  private readonly creations = new Map<boolean, StatementTemplate<InsertValues, OrderSelection>>();
  /** CreateOrder's statement for several orders at once (EngineSql.newOrderRows), built when first needed. */
  private batchStatement: StatementTemplate<NewOrderColumns, OrderSelection> | undefined;
  /** New orders arriving together, written by one statement where the engine can (insertMany). */
  private readonly insertions: TurnBatches<InsertValues, OrderSelection | undefined> | undefined;

  private constructor(
    private readonly db: Kysely<Tables>,
    private readonly engine: Engine,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {
    this.columns = orderColumns(engine);
    if (engine.sql.orderChangeNotice?.in === "with" && engine.sql.newOrderRows !== undefined) {
      this.insertions = new TurnBatches((batch) => this.insertMany(batch), insertBatchLimit);
    }
  }

  /** Opens the repository and starts receiving the changes of every process on `channel`. */
  static async open(db: Kysely<Tables>, engine: Engine, channel: string, logger: Logger): Promise<SqlOrderRepository> {
    const repository = new SqlOrderRepository(db, engine, channel, logger);
    repository.feed = await engine.listen(channel, {
      onPayload: (payload) => repository.deliver(payload),
      onLost: (error) =>
        repository.endWatches(
          new UnavailableError(
            "lost the connection to the database, so changes may have been missed; list the orders again and reopen the watch",
            { cause: error },
          ),
        ),
    });
    return repository;
  }

  create(order: NewOrder): Promise<{ order: Order; created: boolean; fingerprint: string | undefined }> {
    const notice = this.engine.sql.orderChangeNotice;
    return guard(this.engine, async () => {
      if (notice === undefined) return this.db.transaction().execute((tx) => this.createIn(tx, order));
      // One statement, in autocommit: the insert and its notification commit together or not at all,
      // shared with the orders that arrive in the same turn (insertMany). A used key needs a
      // second one, to read the order it names.
      const values = this.insertValues(order);
      for (let attempt = 0; ; attempt++) {
        const inserted = attempt === 0 && this.insertions !== undefined ? await this.insertions.add(values) : await this.insertOne(values);
        if (inserted !== undefined) return { order: this.toOrder(inserted), created: true, fingerprint: order.idempotency?.fingerprint };
        const earlier = await this.earlier(this.db, order);
        // Deleted since the insert found it: the key is free again.
        if (earlier !== undefined || attempt === 2) return this.replay(earlier);
      }
    });
  }

  /** Inserts one order with its change notice, in one statement; undefined when its owner used its key before. */
  private async insertOne(values: InsertValues): Promise<OrderSelection | undefined> {
    const notice = this.engine.sql.orderChangeNotice;
    if (notice === undefined) throw new Error("this engine publishes changes in transactions");
    const [inserted] = (await this.db.executeQuery(this.creation(notice, values.date !== null).with(values))).rows;
    return inserted;
  }

  /**
   * Orders that arrive in the same turn, inserted by one statement with
   * their change notices (EngineSql.newOrderRows), in autocommit: one
   * round trip, one parse and one commit for all of them. Each gets its
   * row, or undefined when its owner used its key before (a key used twice
   * in one batch: the first one's order). A lone order takes the
   * one-order statement. Should a batch fail for anything but an outage,
   * its orders are written one by one, so each caller gets its own answer.
   */
  private async insertMany(batch: readonly InsertValues[]): Promise<ReadonlyArray<Promise<OrderSelection | undefined>>> {
    const single = () => batch.map((values) => this.insertOne(values));
    if (batch.length === 1) return single();
    const statement = this.batchCreation();
    if (statement === undefined) return single();
    const columns: NewOrderColumns = {
      id: batch.map((values) => values.id),
      owner: batch.map((values) => values.owner),
      name: batch.map((values) => values.name),
      completed: batch.map((values) => values.completed),
      date: batch.map((values) => values.date),
      key: batch.map((values) => values.key),
      fingerprint: batch.map((values) => values.fingerprint),
    };
    let rows: OrderSelection[];
    try {
      rows = (await this.db.executeQuery(statement.with(columns))).rows;
    } catch (error) {
      if (isConnectionFailure(error)) throw error;
      this.logger.warn({ err: error, orders: batch.length }, "a batch of new orders failed: writing them one by one");
      return single();
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    return batch.map(async (values) => byId.get(values.id));
  }

  /** The statement that writes a batch of orders and their change notices, compiled once. */
  private batchCreation(): StatementTemplate<NewOrderColumns, OrderSelection> | undefined {
    const { orderChangeNotice: notice, newOrderRows, nowAsDate } = this.engine.sql;
    if (notice?.in !== "with" || newOrderRows === undefined) return undefined;
    this.batchStatement ??= new StatementTemplate<NewOrderColumns, OrderSelection>(
      ["id", "owner", "name", "completed", "date", "key", "fingerprint"],
      (columns) =>
        this.db
          .with("inserted", (db) =>
            db
              .insertInto("orders")
              .columns(["id", "owner", "name", "completed", "date", "idempotency_key", "request_fingerprint"])
              .expression(
                db
                  .selectFrom(newOrderRows(columns))
                  .select((eb) => [
                    "input.id",
                    "input.owner",
                    "input.name",
                    "input.completed",
                    eb.fn.coalesce(sql`input.date`, nowAsDate).as("date"),
                    "input.key",
                    "input.fingerprint",
                  ]),
              )
              .onConflict((conflict) => conflict.columns(["owner", "idempotency_key"]).doNothing())
              .returning(this.columns),
          )
          .selectFrom("inserted")
          .selectAll()
          .select(notice.notice(this.channel, "created").as("notified")),
    );
    return this.batchStatement;
  }

  /** The insert and its change notice as one statement, compiled once per kind of date. */
  private creation(notice: OrderChangeNotice, dated: boolean): StatementTemplate<InsertValues, OrderSelection> {
    let statement = this.creations.get(dated);
    if (statement !== undefined) return statement;
    const announced = notice.notice(this.channel, "created").as("notified");
    const undated: Array<keyof InsertValues> = ["id", "owner", "name", "completed", "key", "fingerprint"];
    const names = dated ? [...undated, "date" as const] : undated;
    statement = new StatementTemplate<InsertValues, OrderSelection>(names, (values) =>
      notice.in === "returning"
        ? this.insertion(this.db, values, dated).returning(announced)
        : this.db
            .with("inserted", (db) => this.insertion(db, values, dated))
            .selectFrom("inserted")
            .selectAll()
            .select(announced),
    );
    this.creations.set(dated, statement);
    return statement;
  }

  private async createIn(
    tx: Transaction<Tables>,
    order: NewOrder,
  ): Promise<{ order: Order; created: boolean; fingerprint: string | undefined }> {
    const inserted = await this.insertion(tx, this.insertValues(order), order.date !== undefined).executeTakeFirst();
    if (inserted !== undefined) {
      const created = this.toOrder(inserted);
      await this.publish(tx, "created", created);
      return { order: created, created: true, fingerprint: order.idempotency?.fingerprint };
    }
    // The owner used the key before (possibly in a concurrent request,
    // which the insert waited for): answer with that order, write nothing.
    return this.replay(await this.earlier(tx, order));
  }

  /**
   * Inserts the order unless its owner used its idempotency key before,
   * returning it when inserted. Undated, it is dated by the database: the
   * create time, to the same millisecond.
   */
  private insertion(db: QueryCreator<Tables>, values: InsertValues, dated: boolean) {
    return db
      .insertInto("orders")
      .values({
        id: values.id,
        owner: values.owner,
        name: values.name,
        completed: values.completed,
        date: dated ? values.date : this.engine.sql.nowAsDate,
        idempotency_key: values.key,
        request_fingerprint: values.fingerprint,
      })
      .onConflict((conflict) => conflict.columns(["owner", "idempotency_key"]).doNothing())
      .returning(this.columns);
  }

  private insertValues(order: NewOrder): InsertValues {
    return {
      id: order.id,
      owner: order.owner,
      name: order.name,
      completed: order.completed,
      date: order.date === undefined ? null : this.engine.sql.dateValue(order.date),
      key: order.idempotency?.key ?? null,
      fingerprint: order.idempotency?.fingerprint ?? null,
    };
  }

  /** The order made earlier with the new order's idempotency key, if it is still there. */
  private earlier(db: QueryCreator<Tables>, order: NewOrder): Promise<OrderSelection | undefined> {
    return db
      .selectFrom("orders")
      .select(this.columns)
      .where("owner", "=", order.owner)
      .where("idempotency_key", "=", order.idempotency?.key ?? null)
      .executeTakeFirst();
  }

  private replay(earlier: OrderSelection | undefined): { order: Order; created: boolean; fingerprint: string | undefined } {
    if (earlier === undefined) throw new Error("an order's idempotency key was taken, yet no order has it");
    return { order: this.toOrder(earlier), created: false, fingerprint: earlier.request_fingerprint ?? undefined };
  }

  get(id: string, owner: OwnerFilter): Promise<Order | undefined> {
    return guard(this.engine, async () => {
      const row = await ownedBy(this.db.selectFrom("orders").select(this.columns).where("id", "=", id), owner).executeTakeFirst();
      return row === undefined ? undefined : this.toOrder(row);
    });
  }

  update(id: string, owner: OwnerFilter, patch: OrderPatch, expectedVersion: number | undefined): Promise<GuardedWrite> {
    const empty = Object.keys(patch).length === 0;
    const notice = this.engine.sql.orderChangeNotice;
    if (notice !== undefined && !empty) {
      const announced = notice.notice(this.channel, "updated").as("notified");
      return this.guardedStatement(id, owner, expectedVersion, (db) =>
        notice.in === "returning"
          ? guardedBy(this.updating(db, patch), id, owner, expectedVersion).returning(this.columns).returning(announced).executeTakeFirst()
          : db
              .with("updated", (db) => guardedBy(this.updating(db, patch), id, owner, expectedVersion).returning(this.columns))
              .selectFrom("updated")
              .selectAll()
              .select(announced)
              .executeTakeFirst(),
      );
    }
    return this.guardedWrite(id, owner, expectedVersion, async (tx, current) => {
      if (empty) return current;
      const row = await this.updating(tx, patch).where("id", "=", id).returning(this.columns).executeTakeFirstOrThrow();
      const updated = this.toOrder(row);
      await this.publish(tx, "updated", updated);
      return updated;
    });
  }

  delete(id: string, owner: OwnerFilter, expectedVersion: number | undefined): Promise<GuardedWrite> {
    const notice = this.engine.sql.orderChangeNotice;
    if (notice !== undefined) {
      const announced = notice.notice(this.channel, "deleted").as("notified");
      return this.guardedStatement(id, owner, expectedVersion, (db) =>
        notice.in === "returning"
          ? guardedBy(db.deleteFrom("orders"), id, owner, expectedVersion).returning(this.columns).returning(announced).executeTakeFirst()
          : db
              .with("deleted", (db) => guardedBy(db.deleteFrom("orders"), id, owner, expectedVersion).returning(this.columns))
              .selectFrom("deleted")
              .selectAll()
              .select(announced)
              .executeTakeFirst(),
      );
    }
    return this.guardedWrite(id, owner, expectedVersion, async (tx, current) => {
      await tx.deleteFrom("orders").where("id", "=", id).execute();
      await this.publish(tx, "deleted", current);
      return current;
    });
  }

  private updating(db: QueryCreator<Tables>, patch: OrderPatch) {
    const { date, ...rest } = patch;
    const engineSql = this.engine.sql;
    return db
      .updateTable("orders")
      .set({ ...rest, ...(date && { date: engineSql.dateValue(date) }), update_time: engineSql.now, version: sql<number>`version + 1` });
  }

  /**
   * A guarded write as one statement in autocommit (`write`: the row
   * written, or none), the version checked in its WHERE clause. When it
   * writes nothing, a read tells a missing order from a stale version; an
   * order found at the expected version changed while the statement ran,
   * so it is tried again.
   */
  private guardedStatement(
    id: string,
    owner: OwnerFilter,
    expectedVersion: number | undefined,
    write: (db: Kysely<Tables>) => Promise<OrderSelection | undefined>,
  ): Promise<GuardedWrite> {
    return guard(this.engine, async () => {
      for (let attempt = 0; ; attempt++) {
        const row = await write(this.db);
        if (row !== undefined) return { outcome: "done", order: this.toOrder(row) };
        const current = await ownedBy(this.db.selectFrom("orders").select(this.columns).where("id", "=", id), owner).executeTakeFirst();
        if (current === undefined) return { outcome: "not-found" };
        const order = this.toOrder(current);
        if ((expectedVersion !== undefined && order.version !== expectedVersion) || attempt === 2) return { outcome: "stale", order };
      }
    });
  }

  list({ owner, limit, after, completed, newestFirst = false }: OrderPageQuery): Promise<Order[]> {
    return guard(this.engine, async () => {
      const direction = newestFirst ? "desc" : "asc";
      let query = ownedBy(this.db.selectFrom("orders").select(this.columns), owner)
        .orderBy("create_time", direction)
        .orderBy("id", direction)
        .limit(limit);
      if (completed !== undefined) query = query.where("completed", "=", completed);
      if (after !== undefined) {
        const createTime = this.engine.sql.timeValue(after.createTime);
        query = query.where((eb) => eb(eb.refTuple("create_time", "id"), newestFirst ? "<" : ">", eb.tuple(createTime, after.id)));
      }
      return (await query.execute()).map((row) => this.toOrder(row));
    });
  }

  async watch(listener: OrderChangeListener): Promise<() => void> {
    const unreachable = "the database cannot be reached right now, so changes cannot be watched; try again shortly";
    if (!this.engine.listening) throw new UnavailableError(unreachable);
    // Changes are received only while someone in this process watches them.
    this.subscribing++;
    try {
      await this.feed.want(true);
    } catch (error) {
      this.subscribing--;
      this.wantChanges();
      throw new UnavailableError(unreachable, { cause: error });
    }
    this.subscribing--;
    this.listeners.add(listener);
    return () => {
      if (this.listeners.delete(listener)) this.wantChanges();
    };
  }

  /** Ends every subscription, e.g. because the server is stopping. */
  endWatches(error: Error): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener.onEnd(error);
    this.wantChanges();
  }

  /** Tells the feed whether changes are still wanted; a failure is the feed's to report (onLost). */
  private wantChanges(): void {
    this.feed.want(this.listeners.size + this.subscribing > 0).catch(() => {});
  }

  /** Locks the row, checks the expected version, then runs `write`, all in one transaction. */
  private guardedWrite(
    id: string,
    owner: OwnerFilter,
    expectedVersion: number | undefined,
    write: (tx: Transaction<Tables>, current: Order) => Promise<Order>,
  ): Promise<GuardedWrite> {
    return guard(this.engine, () =>
      this.db.transaction().execute(async (tx): Promise<GuardedWrite> => {
        const row = await ownedBy(tx.selectFrom("orders").select(this.columns).where("id", "=", id), owner)
          .$if(this.engine.sql.rowLocks, (query) => query.forUpdate())
          .executeTakeFirst();
        if (row === undefined) return { outcome: "not-found" };
        const current = this.toOrder(row);
        if (expectedVersion !== undefined && current.version !== expectedVersion) return { outcome: "stale", order: current };
        return { outcome: "done", order: await write(tx, current) };
      }),
    );
  }

  private async publish(tx: Transaction<Tables>, type: OrderChangeType, order: Order): Promise<void> {
    const payload: ChangePayload = {
      type,
      order: {
        ...order,
        date: order.date.epochMillis,
        dateMicros: order.date.epochMicros.toString(),
        createTime: order.createTime.getTime(),
        updateTime: order.updateTime.getTime(),
      },
    };
    await this.engine.publish(tx, this.channel, JSON.stringify(payload));
  }

  private toOrder(row: OrderSelection): Order {
    const { sql: engineSql } = this.engine;
    return {
      id: row.id,
      owner: row.owner,
      name: row.name,
      completed: engineSql.readBoolean(row.completed),
      date: Instant.fromEpochMicros(BigInt(row.date_micros)),
      createTime: engineSql.readTime(row.create_time),
      updateTime: engineSql.readTime(row.update_time),
      version: row.version,
    };
  }

  private deliver(payload: string): void {
    // Most changes have no watcher in this process: they need not be read.
    if (this.listeners.size === 0) return;
    let change: OrderChange;
    try {
      const { type, order } = JSON.parse(payload) as ChangePayload;
      const { dateMicros, owner, ...rest } = order;
      change = {
        type,
        order: {
          ...rest,
          // From a server of an earlier version, whose orders are all the anonymous owner's.
          owner: owner ?? anonymousOwner,
          // From a server of an earlier version, milliseconds only.
          date: dateMicros === undefined ? Instant.fromDate(new Date(order.date)) : Instant.fromEpochMicros(BigInt(dateMicros)),
          createTime: new Date(order.createTime),
          updateTime: new Date(order.updateTime),
        },
      };
    } catch (error) {
      this.logger.error({ err: error }, "ignored an order change notification that could not be read");
      return;
    }
    for (const listener of this.listeners) listener.onChange(change);
  }
}

/**
 * An OrderChange as JSON, times in ms since the epoch; the date also in
 * microseconds, as a decimal string. Servers of an earlier version, sharing
 * the database during an upgrade, read the milliseconds and ignore the rest.
 */
interface ChangePayload {
  readonly type: OrderChangeType;
  readonly order: Omit<Order, "owner" | "date" | "createTime" | "updateTime"> & {
    owner?: string;
    date: number;
    dateMicros?: string;
    createTime: number;
    updateTime: number;
  };
}

type OrderSelection = Omit<Selectable<OrderRow>, "date"> & { date_micros: string };

type OrderChangeNotice = NonNullable<EngineSql["orderChangeNotice"]>;

/** A new order's column values, as insertion() and insertMany() write them. */
type InsertValues = NewOrderRow;

/** Every column but the date, which is read as microseconds since the epoch (EngineSql.dateMicros): a Date would keep milliseconds. */
function orderColumns(engine: Engine) {
  return [
    "id",
    "owner",
    "name",
    "completed",
    "create_time",
    "update_time",
    "version",
    "idempotency_key",
    "request_fingerprint",
    engine.sql.dateMicros.as("date_micros"),
  ] as const;
}

/** An update or delete of order `id`, of `owner`'s orders only (unless undefined), at `expectedVersion` only (unless undefined). */
function guardedBy<Q extends WhereInterface<Tables, "orders">>(
  query: Q,
  id: string,
  owner: OwnerFilter,
  expectedVersion: number | undefined,
): Q {
  let guarded = query.where("id", "=", id) as Q;
  if (owner !== undefined) guarded = guarded.where("owner", "=", owner) as Q;
  if (expectedVersion !== undefined) guarded = guarded.where("version", "=", expectedVersion) as Q;
  return guarded;
}

/** `query` narrowed to one owner's orders, unless `owner` is undefined (every owner's). */
function ownedBy<O>(query: SelectQueryBuilder<Tables, "orders", O>, owner: OwnerFilter): SelectQueryBuilder<Tables, "orders", O> {
  return owner === undefined ? query : query.where("owner", "=", owner);
}
