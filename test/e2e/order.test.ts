import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { type Order, OrderChangeType, OrderService } from "../../gen/order/v1/order_pb.js";
import { OrderNotificationTypeEnum, OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";
import { rejection } from "../support/assert.js";
import { serversOnEachEngine } from "../support/database.js";
import { protocolCases } from "../support/server.js";

const ok = OrderNotificationTypeEnum.OK;

/** Every order, page by page. */
async function listAll(transport: Transport, pageSize: number): Promise<Order[]> {
  const orders = createClient(OrderService, transport);
  const all: Order[] = [];
  let pageToken = "";
  do {
    const page = await orders.listOrders({ pageSize, pageToken });
    all.push(...page.orders);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}

function required<T>(value: T | undefined): T {
  assert.ok(value !== undefined, "expected a value");
  return value;
}

for (const { engine, server } of await serversOnEachEngine((name) => `orders on ${name}`)) {
  const protocols = protocolCases(server.baseUrl);
  after(() => protocols.close());

  describe(`orders on ${engine.name}`, () => {
    for (const { name, get, transport } of protocols.cases) {
      test(`${name}: create, read, update with etags, delete, each seen on WatchOrders`, async () => {
        const orders = createClient(OrderService, transport);
        const watching = new AbortController();
        const changes = orders.watchOrders({}, { signal: watching.signal })[Symbol.asyncIterator]();
        try {
          const first = await changes.next();
          assert.equal(first.value?.started, true, "the first message says the watch is live");
          assert.equal(first.value?.order, undefined);

          const before = Date.now();
          const created = required((await orders.createOrder({ name: `  Tea (${name}) ` })).order);
          assert.match(created.id, /^[0-9a-f-]{36}$/);
          assert.equal(created.name, `Tea (${name})`);
          assert.equal(created.completed, false);
          assert.equal(created.etag, "v1");
          const date = timestampDate(required(created.date));
          assert.ok(Math.abs(date.getTime() - before) < 60_000, "the date defaults to now");
          assert.deepEqual(created.createTime, created.date);

          const read = required((await orders.getOrder({ id: created.id })).order);
          assert.deepEqual(read, created);
          assert.equal(server.callLogs("/order.v1.OrderService/GetOrder").at(-1)?.method, get ? "GET" : "POST");

          // A partial update keeps the other fields and moves the etag on.
          const completed = required((await orders.updateOrder({ id: created.id, completed: true, etag: created.etag })).order);
          assert.equal(completed.completed, true);
          assert.equal(completed.name, created.name);
          assert.equal(completed.etag, "v2");
          assert.ok(timestampDate(required(completed.updateTime)) >= timestampDate(required(created.updateTime)));

          // A stale etag changes nothing.
          const stale = await rejection(orders.updateOrder({ id: created.id, name: "Coffee", etag: created.etag }));
          assert.equal(stale.code, Code.Aborted);
          assert.match(stale.rawMessage, /changed since etag v1 was read \(it is now at v2\)/);
          assert.equal((await orders.getOrder({ id: created.id })).order?.name, created.name);
          const staleDelete = await rejection(orders.deleteOrder({ id: created.id, etag: "v1" }));
          assert.equal(staleDelete.code, Code.Aborted);

          const newDate = new Date("2024-05-01T12:34:56.789Z");
          const renamed = required(
            (await orders.updateOrder({ id: created.id, name: "Green tea", date: timestampFromDate(newDate) })).order,
          );
          assert.equal(renamed.name, "Green tea");
          assert.equal(renamed.completed, true);
          assert.equal(timestampDate(required(renamed.date)).toISOString(), newDate.toISOString());
          assert.equal(renamed.etag, "v3");

          await orders.deleteOrder({ id: created.id, etag: renamed.etag });
          assert.equal((await rejection(orders.getOrder({ id: created.id }))).code, Code.NotFound);
          assert.equal((await rejection(orders.deleteOrder({ id: created.id }))).code, Code.NotFound);
          assert.equal((await rejection(orders.updateOrder({ id: created.id, completed: false }))).code, Code.NotFound);

          // Every change arrived, in order, with the order as it was then. A
          // change an earlier test committed just before this watch started
          // may still be on its way (NOTIFY is delivered after the commit): skip others' orders.
          const seen = [];
          while (seen.length < 4) {
            const change = required((await changes.next()).value);
            if (change.order?.id === created.id) seen.push(change);
          }
          assert.deepEqual(
            seen.map(({ type, order }) => [type, order?.etag, order?.name, order?.completed]),
            [
              [OrderChangeType.CREATED, "v1", created.name, false],
              [OrderChangeType.UPDATED, "v2", created.name, true],
              [OrderChangeType.UPDATED, "v3", "Green tea", true],
              [OrderChangeType.DELETED, "v3", "Green tea", true],
            ],
          );
          assert.deepEqual(seen[0]?.order, created);
        } finally {
          watching.abort();
        }
      });

      test(`${name}: bad input gets INVALID_ARGUMENT naming the field`, async () => {
        const orders = createClient(OrderService, transport);
        const cases = [
          [() => orders.createOrder({ name: "" }), /^name is required/],
          [() => orders.createOrder({ name: "n".repeat(201) }), /^name cannot be more than 200 characters, got 201/],
          [() => orders.createOrder({ name: "line\nbreak" }), /^name must not contain control characters/],
          [
            () => orders.createOrder({ name: "Old", date: { seconds: -62_135_596_801n, nanos: 0 } }),
            /^date must be between 0001-01-01 and 9999-12-31/,
          ],
          [
            () => orders.createOrder({ name: "Key", idempotencyKey: "k".repeat(201) }),
            /^idempotency_key cannot be more than 200 characters/,
          ],
          [
            () => orders.createOrder({ name: "Nanos", date: { seconds: 0n, nanos: -1 } }),
            /^date.nanos must be from 0 to 999999999, got -1/,
          ],
          [() => orders.getOrder({ id: "" }), /^id is required/],
          [() => orders.getOrder({ id: "not-a-uuid" }), /^id must be a UUID, got "not-a-uuid"/],
          [() => orders.updateOrder({ id: randomUUID(), etag: "1" }), /^etag "1" is not one this server issued/],
          [() => orders.listOrders({ pageSize: -1 }), /^page_size must not be negative, got -1/],
          [() => orders.listOrders({ pageToken: "garbage" }), /^page_token is not valid/],
          [() => orders.listOrders({ pageToken: Buffer.from("null").toString("base64url") }), /^page_token is not valid/],
          [
            () =>
              orders.listOrders({ pageToken: Buffer.from(JSON.stringify({ t: 1e20, i: randomUUID(), c: null })).toString("base64url") }),
            /^page_token is not valid/,
          ],
        ] as const;
        for (const [call, message] of cases) {
          const error = await rejection(call());
          assert.equal(error.code, Code.InvalidArgument, error.rawMessage);
          assert.match(error.rawMessage, message);
        }
      });

      test(`${name}: a retried create with the same idempotency key creates nothing`, async () => {
        const orders = createClient(OrderService, transport);
        const key = randomUUID();
        const date = timestampFromDate(new Date("2025-01-02T03:04:05.006Z"));
        const countBefore = (await listAll(transport, 500)).length;
        const first = required((await orders.createOrder({ name: "Bread", completed: true, date, idempotencyKey: key })).order);
        const retries = await Promise.all(
          [1, 2, 3].map(() => orders.createOrder({ name: "Bread", completed: true, date, idempotencyKey: key })),
        );
        for (const retry of retries) assert.deepEqual(retry.order, first);
        assert.equal((await listAll(transport, 500)).length, countBefore + 1);

        const reused = await rejection(orders.createOrder({ name: "Butter", completed: true, date, idempotencyKey: key }));
        assert.equal(reused.code, Code.InvalidArgument);
        assert.match(reused.rawMessage, new RegExp(`^idempotency_key "${key}" was already used for a different order \\(${first.id}\\)`));
        const withoutKey = required((await orders.createOrder({ name: "Bread", completed: true, date })).order);
        assert.notEqual(withoutKey.id, first.id, "without a key, every create is a new order");
        await orders.deleteOrder({ id: first.id });
        await orders.deleteOrder({ id: withoutKey.id });
      });

      test(`${name}: the tutorial's order contract`, async () => {
        const tutorial = createClient(TutorialOrderService, transport);
        const before = Date.now();
        const created = await tutorial.createOrder({ name: "Soup", completed: false, date: "" });
        assert.equal(created.notificationType, ok);
        const order = required(created.order);
        assert.match(order.uuid, /^[0-9a-f-]{36}$/);
        assert.match(order.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, "an empty date means now, in UTC ISO 8601");
        assert.ok(Math.abs(Date.parse(order.date) - before) < 60_000);

        const dated = required((await tutorial.createOrder({ name: "Cake", completed: true, date: "2024-05-01T10:00:00" })).order);
        assert.equal(dated.date, "2024-05-01T10:00:00.000Z", "a date-time without offset is UTC");
        const offset = required((await tutorial.createOrder({ name: "Pie", completed: false, date: "2024-05-01T12:00:00+02:00" })).order);
        assert.equal(offset.date, "2024-05-01T10:00:00.000Z");
        const badDate = await rejection(tutorial.createOrder({ name: "Jam", completed: false, date: "yesterday" }));
        assert.equal(badDate.code, Code.InvalidArgument);
        assert.match(badDate.rawMessage, /^date must be an ISO 8601 date/);

        const read = await tutorial.readOrder({ uuid: order.uuid });
        assert.equal(read.notificationType, ok);
        assert.deepEqual(read.order, order);

        const updated = await tutorial.updateOrder({ uuid: order.uuid, name: "", completed: true, date: "" });
        assert.equal(updated.notificationType, ok);
        assert.deepEqual(updated.order, { ...order, completed: true }, "empty name and date keep the current ones");

        const listed = await tutorial.listOrders({});
        assert.equal(listed.notificationType, ok);
        assert.deepEqual(
          listed.orders
            .filter((candidate) => [order.uuid, dated.uuid, offset.uuid].includes(candidate.uuid))
            .map((candidate) => candidate.uuid),
          [order.uuid, dated.uuid, offset.uuid],
          "oldest first",
        );

        for (const uuid of [order.uuid, dated.uuid, offset.uuid]) {
          const deleted = await tutorial.deleteOrder({ uuid });
          assert.equal(deleted.notificationType, ok);
          assert.equal(deleted.success, true);
        }
        for (const call of [
          () => tutorial.readOrder({ uuid: order.uuid }),
          () => tutorial.deleteOrder({ uuid: order.uuid }),
          () => tutorial.updateOrder({ uuid: order.uuid, name: "x", completed: false, date: "" }),
        ]) {
          const missing = await rejection(call());
          assert.equal(missing.code, Code.NotFound);
          assert.match(missing.rawMessage, new RegExp(`no order has id ${order.uuid}`));
        }
        const malformed = await rejection(tutorial.readOrder({ uuid: "42" }));
        assert.equal(malformed.code, Code.InvalidArgument);
        assert.match(malformed.rawMessage, /^uuid must be a UUID/);
      });
    }

    test("dates keep their microseconds on both contracts, in the database and on WatchOrders", async () => {
      const [grpc] = protocols.cases;
      const { transport } = required(grpc);
      const orders = createClient(OrderService, transport);
      const tutorial = createClient(TutorialOrderService, transport);
      const watching = new AbortController();
      const changes = orders.watchOrders({}, { signal: watching.signal })[Symbol.asyncIterator]();
      try {
        assert.equal((await changes.next()).value?.started, true);

        // What the tutorial's Python client sends when no date is given: f"{datetime.utcnow()}Z".
        const python = required(
          (await tutorial.createOrder({ name: "Python", completed: false, date: "2026-11-30 08:44:59.123456Z" })).order,
        );
        assert.equal(python.date, "2026-11-30T08:44:59.123456Z");
        assert.equal(required((await tutorial.readOrder({ uuid: python.uuid })).order).date, "2026-11-30T08:44:59.123456Z");
        const seen = required((await orders.getOrder({ id: python.uuid })).order);
        assert.equal(seen.date?.seconds, BigInt(Date.UTC(2026, 10, 30, 8, 44, 59) / 1000));
        assert.equal(seen.date?.nanos, 123_456_000);
        const created = await changes.next();
        assert.equal(created.value?.order?.date?.nanos, 123_456_000, "the change notification keeps the microseconds");

        // order.v1 keeps a Timestamp to the microsecond; digits below it are dropped, as PostgreSQL keeps none.
        const precise = required(
          (await orders.createOrder({ name: "Precise", date: { seconds: -62_135_596_800n, nanos: 999_999_999 } })).order,
        );
        assert.deepEqual([precise.date?.seconds, precise.date?.nanos], [-62_135_596_800n, 999_999_000]);
        assert.equal(required((await tutorial.readOrder({ uuid: precise.id })).order).date, "0001-01-01T00:00:00.999999Z");
        await changes.next();

        // Updates keep them too; an offset is applied; a date on a whole millisecond reads as before.
        const updated = required(
          (await tutorial.updateOrder({ uuid: python.uuid, name: "", completed: true, date: "2026-11-30T10:44:59.000001+02:00" })).order,
        );
        assert.equal(updated.date, "2026-11-30T08:44:59.000001Z");
        assert.equal((await changes.next()).value?.order?.date?.nanos, 1_000);
        const whole = required((await tutorial.updateOrder({ uuid: python.uuid, name: "", completed: true, date: "2026-11-30" })).order);
        assert.equal(whole.date, "2026-11-30T00:00:00.000Z");
        await changes.next();

        await orders.deleteOrder({ id: python.uuid });
        await orders.deleteOrder({ id: precise.id });
      } finally {
        watching.abort();
      }
    });

    test("paging visits every order once, oldest first, while orders are being added", async () => {
      const [, , connect] = protocols.cases;
      const { transport } = required(connect);
      const orders = createClient(OrderService, transport);
      for (let index = 0; index < 60; index++) await orders.createOrder({ name: `Paged ${index}`, completed: index % 3 === 0 });
      const existing = await listAll(transport, 500);
      assert.ok(existing.length >= 60);

      const firstPage = await orders.listOrders({});
      assert.equal(firstPage.orders.length, 50, "the default page size is 50");
      assert.notEqual(firstPage.nextPageToken, "");
      assert.equal((await orders.listOrders({ pageSize: 100_000 })).orders.length, Math.min(existing.length, 500), "more than 500 is 500");

      // Walk 7 at a time, adding two orders before each next page.
      const walked: Order[] = [];
      const added: string[] = [];
      let pageToken = "";
      do {
        const page = await orders.listOrders({ pageSize: 7, pageToken });
        assert.ok(page.orders.length <= 7);
        walked.push(...page.orders);
        pageToken = page.nextPageToken;
        for (const extra of await Promise.all([
          orders.createOrder({ name: "Added meanwhile" }),
          orders.createOrder({ name: "Added meanwhile" }),
        ])) {
          added.push(required(extra.order).id);
        }
      } while (pageToken !== "");

      const walkedIds = walked.map((order) => order.id);
      assert.equal(new Set(walkedIds).size, walkedIds.length, "no order appears twice");
      for (const order of existing) assert.ok(walkedIds.includes(order.id), `order ${order.id} was skipped`);
      const keys = walked.map((order) => [timestampDate(required(order.createTime)).getTime(), order.id] as const);
      const sorted = [...keys].sort(([timeA, idA], [timeB, idB]) => timeA - timeB || (idA < idB ? -1 : idA > idB ? 1 : 0));
      assert.deepEqual(keys, sorted, "oldest first, then by id");
      assert.ok(
        added.some((id) => walkedIds.includes(id)),
        "orders added behind the last page show up on later pages",
      );

      // The completed filter, and a token is bound to its filter.
      const done = await orders.listOrders({ completed: true, pageSize: 5 });
      assert.ok(done.orders.length === 5 && done.orders.every((order) => order.completed));
      const switched = await rejection(orders.listOrders({ completed: false, pageToken: done.nextPageToken }));
      assert.equal(switched.code, Code.InvalidArgument);
      assert.match(switched.rawMessage, /different completed filter/);
      const allDone = [];
      let token = "";
      do {
        const page = await orders.listOrders({ completed: true, pageSize: 4, pageToken: token });
        allDone.push(...page.orders);
        token = page.nextPageToken;
      } while (token !== "");
      assert.deepEqual(
        allDone.map((order) => order.id),
        (await listAll(transport, 500)).filter((order) => order.completed).map((order) => order.id),
      );
    });
  });
}
