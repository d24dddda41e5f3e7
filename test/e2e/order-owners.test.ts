import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type CallOptions, type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { type Order, OrderChangeType, OrderService, type WatchOrdersResponse } from "../../gen/order/v1/order_pb.js";
import { OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";
import { rejection } from "../support/assert.js";
import { serversOnEachEngine } from "../support/database.js";
import { protocolCases } from "../support/server.js";
import { authEnv, mintToken } from "../support/tokens.js";

// Orders belong to the token subject that created them: other callers,
// anonymous ones included, neither see nor change them, nor learn that their
// ids exist; a token with orders:admin reaches every order.

const as = (token: string): CallOptions => ({ headers: { authorization: `Bearer ${token}` } });
const alice = as(await mintToken({ sub: "alice", scope: "orders:write" }));
const bob = as(await mintToken({ sub: "bob", scope: "orders:write" }));
const admin = as(await mintToken({ sub: "root", scope: "orders:write orders:admin" }));
/** orders:admin widens what other scopes allow; on its own it changes nothing. */
const adminReadOnly = as(await mintToken({ sub: "auditor", scope: "orders:admin" }));
const anonymous: CallOptions = {};

function required<T>(value: T | undefined): T {
  assert.ok(value !== undefined, "expected a value");
  return value;
}

/** Every order the caller sees, page by page. */
async function listAll(orders: Client<typeof OrderService>, options: CallOptions, pageSize = 500): Promise<Order[]> {
  const all: Order[] = [];
  let pageToken = "";
  do {
    const page = await orders.listOrders({ pageSize, pageToken }, options);
    all.push(...page.orders);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}

/** A NOT_FOUND exactly as for an id that does not exist, which says nothing about whose the order is. */
async function assertNotFound(call: Promise<unknown>, id: string, what: string): Promise<void> {
  const error = await rejection(call);
  assert.equal(error.code, Code.NotFound, `${what}: ${error.rawMessage}`);
  assert.equal(error.rawMessage, `no order has id ${id}`, what);
}

/** The changes a watch receives until `count` have come, as "type id" strings. */
async function nextChanges(messages: AsyncIterator<WatchOrdersResponse>, count: number): Promise<string[]> {
  const seen: string[] = [];
  while (seen.length < count) {
    const next = await messages.next();
    assert.ok(!next.done, "the watch ended early");
    seen.push(`${OrderChangeType[next.value.type]} ${next.value.order?.id}`);
  }
  return seen;
}

async function openWatch(orders: Client<typeof OrderService>, options: CallOptions, signal: AbortSignal) {
  const messages = orders.watchOrders({}, { ...options, signal })[Symbol.asyncIterator]();
  assert.equal((await messages.next()).value?.started, true);
  return messages;
}

for (const { engine, server } of await serversOnEachEngine((name) => `order owners on ${name}`, authEnv)) {
  const protocols = protocolCases(server.baseUrl);
  after(() => protocols.close());
  const [grpc, , connectJson] = protocols.cases;
  const transport: Transport = required(connectJson).transport;

  describe(`order owners on ${engine.name}`, () => {
    for (const { name, transport } of protocols.cases) {
      test(`${name}: another caller cannot get, list, update or delete an order, and learns nothing of its id; orders:admin can`, async () => {
        const orders = createClient(OrderService, transport);
        const tutorial = createClient(TutorialOrderService, transport);
        const mine = required((await orders.createOrder({ name: `Alice's tea (${name})` }, alice)).order);
        const missing = randomUUID();

        for (const [who, options] of [
          ["bob", bob],
          ["an anonymous caller", anonymous],
        ] as const) {
          await assertNotFound(orders.getOrder({ id: mine.id }, options), mine.id, `${who}: GetOrder`);
          await assertNotFound(orders.getOrder({ id: missing }, options), missing, `${who}: GetOrder of a missing id`);
          await assertNotFound(tutorial.readOrder({ uuid: mine.id }, options), mine.id, `${who}: tutorial ReadOrder`);
          assert.ok(!(await listAll(orders, options)).some((order) => order.id === mine.id), `${who}: ListOrders leaves it out`);
          assert.ok(
            !(await tutorial.listOrders({}, options)).orders.some((order) => order.uuid === mine.id),
            `${who}: tutorial ListOrders leaves it out`,
          );
        }
        await assertNotFound(orders.updateOrder({ id: mine.id, name: "Stolen" }, bob), mine.id, "bob: UpdateOrder");
        await assertNotFound(orders.updateOrder({ id: missing, name: "Stolen" }, bob), missing, "bob: UpdateOrder of a missing id");
        await assertNotFound(orders.deleteOrder({ id: mine.id, etag: mine.etag }, bob), mine.id, "bob: DeleteOrder");
        await assertNotFound(tutorial.updateOrder({ uuid: mine.id, name: "Stolen" }, bob), mine.id, "bob: tutorial UpdateOrder");
        await assertNotFound(tutorial.deleteOrder({ uuid: mine.id }, bob), mine.id, "bob: tutorial DeleteOrder");
        assert.deepEqual((await orders.getOrder({ id: mine.id }, alice)).order, mine, "alice's order is untouched");
        assert.ok(
          (await listAll(orders, alice)).some((order) => order.id === mine.id),
          "alice lists it",
        );

        // An admin reads and changes anyone's order; orders:admin alone still reads only.
        assert.deepEqual((await orders.getOrder({ id: mine.id }, admin)).order, mine);
        assert.deepEqual((await orders.getOrder({ id: mine.id }, adminReadOnly)).order, mine);
        assert.ok(
          (await listAll(orders, admin)).some((order) => order.id === mine.id),
          "the admin lists it",
        );
        assert.equal((await tutorial.readOrder({ uuid: mine.id }, admin)).order?.uuid, mine.id);
        const denied = await rejection(orders.updateOrder({ id: mine.id, completed: true }, adminReadOnly));
        assert.equal(denied.code, Code.PermissionDenied);
        const completed = required((await orders.updateOrder({ id: mine.id, completed: true, etag: mine.etag }, admin)).order);
        assert.equal(completed.etag, "v2");
        assert.equal((await orders.getOrder({ id: mine.id }, alice)).order?.completed, true, "alice sees the admin's change");
        await orders.deleteOrder({ id: mine.id }, admin);
        await assertNotFound(orders.getOrder({ id: mine.id }, alice), mine.id, "deleted by the admin");
      });
    }

    test("WatchOrders carries only the caller's own changes; an admin's carries everyone's", async () => {
      const orders = createClient(OrderService, required(grpc).transport);
      const watching = new AbortController();
      after(() => watching.abort());
      const [aliceWatch, bobWatch, anonymousWatch, adminWatch] = await Promise.all([
        openWatch(orders, alice, watching.signal),
        openWatch(orders, bob, watching.signal),
        openWatch(orders, anonymous, watching.signal),
        openWatch(orders, admin, watching.signal),
      ]);
      const mine = required((await orders.createOrder({ name: "Watched" }, alice)).order);
      await orders.updateOrder({ id: mine.id, completed: true }, alice);
      await orders.deleteOrder({ id: mine.id }, alice);
      const bobs = required((await orders.createOrder({ name: "Bob's" }, bob)).order);
      await orders.deleteOrder({ id: bobs.id }, bob);

      assert.deepEqual(await nextChanges(aliceWatch, 3), [`CREATED ${mine.id}`, `UPDATED ${mine.id}`, `DELETED ${mine.id}`]);
      // Changes arrive in commit order: had alice's reached bob, they would come first.
      assert.deepEqual(await nextChanges(bobWatch, 2), [`CREATED ${bobs.id}`, `DELETED ${bobs.id}`]);
      assert.deepEqual(await nextChanges(adminWatch, 5), [
        `CREATED ${mine.id}`,
        `UPDATED ${mine.id}`,
        `DELETED ${mine.id}`,
        `CREATED ${bobs.id}`,
        `DELETED ${bobs.id}`,
      ]);
      // The anonymous watch saw none of it: the next change it sees is an anonymous one (there is none), so it
      // gets nothing before the watch is stopped.
      const anonymousNext = anonymousWatch.next();
      const quiet = await Promise.race([anonymousNext.then(() => "a change"), new Promise((resolve) => setTimeout(resolve, 300, "quiet"))]);
      assert.equal(quiet, "quiet", "the anonymous watch saw token holders' changes");
      watching.abort();
      await anonymousNext.catch((error: unknown) => assert.equal(ConnectError.from(error).code, Code.Canceled));
    });

    test("idempotency keys are per owner: another owner's reuse creates its own order and names no one else's", async () => {
      const orders = createClient(OrderService, transport);
      const key = randomUUID();
      const alices = required((await orders.createOrder({ name: "Bread", idempotencyKey: key }, alice)).order);
      const bobs = required((await orders.createOrder({ name: "Butter", idempotencyKey: key }, bob)).order);
      assert.notEqual(bobs.id, alices.id);
      assert.equal(bobs.name, "Butter");
      assert.deepEqual((await orders.createOrder({ name: "Butter", idempotencyKey: key }, bob)).order, bobs, "bob's retry is bob's order");
      assert.deepEqual((await orders.createOrder({ name: "Bread", idempotencyKey: key }, alice)).order, alices, "alice's retry is hers");

      const reused = await rejection(orders.createOrder({ name: "Jam", idempotencyKey: key }, bob));
      assert.equal(reused.code, Code.InvalidArgument);
      assert.match(reused.rawMessage, new RegExp(`\\(${bobs.id}\\)`), "the error names the caller's own order");
      assert.ok(!reused.rawMessage.includes(alices.id), "and never another owner's");
      // Same key, same request, from the admin: its own order too (the key is the admin's own).
      const admins = required((await orders.createOrder({ name: "Bread", idempotencyKey: key }, admin)).order);
      assert.ok(![alices.id, bobs.id].includes(admins.id));
    });

    test("the tutorial's ListOrders answers the newest 500 of the caller's orders, oldest first", async () => {
      const bulk = as(await mintToken({ sub: `bulk-${randomUUID()}`, scope: "orders:write" }));
      const orders = createClient(OrderService, required(grpc).transport);
      const total = 530;
      // A few lanes of creates, so the create times follow the creation order closely.
      const lanes = 10;
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let index = lane; index < total; index += lanes) await orders.createOrder({ name: `Bulk ${index}` }, bulk);
        }),
      );
      const every = await listAll(orders, bulk);
      assert.equal(every.length, total);

      const tutorial = createClient(TutorialOrderService, transport);
      const listed = (await tutorial.listOrders({}, bulk)).orders;
      assert.equal(listed.length, 500);
      assert.deepEqual(
        listed.map((order) => order.uuid),
        every.slice(-500).map((order) => order.id),
        "the newest 500, in the order order.v1 lists them",
      );
      const times = every.slice(-500).map((order) => timestampDate(required(order.createTime)).getTime());
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      // Another caller's listing is not filled with them.
      assert.ok(!(await tutorial.listOrders({}, bob)).orders.some((order) => order.name.startsWith("Bulk ")));
    });

    test("a forged page_token is INVALID_ARGUMENT with an actionable message, and logs no error", async () => {
      const orders = createClient(OrderService, transport);
      const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const id = randomUUID();
      const forged = {
        "a time before PostgreSQL's range": token({ t: -8.64e15, i: id, c: null }),
        "a time beyond 9999": token({ t: 8.64e15, i: id, c: null }),
        "a fractional time": token({ t: 1.5, i: id, c: null }),
        "a time as text": token({ t: "0", i: id, c: null }),
        "a bad id": token({ t: 0, i: "not-a-uuid", c: null }),
        "an id of the wrong type": token({ t: 0, i: 7, c: null }),
        "a filter that is not a boolean": token({ t: 0, i: id, c: "yes" }),
        "an array": token([0, id]),
        garbage: "%%%not-base64%%%",
      };
      const logged = server.logs.length;
      for (const [what, pageToken] of Object.entries(forged)) {
        const error = await rejection(orders.listOrders({ pageToken }, alice));
        assert.equal(error.code, Code.InvalidArgument, `${what}: ${error.rawMessage}`);
        assert.equal(error.rawMessage, "page_token is not valid: pass the next_page_token of the previous page unchanged", what);
      }
      const errors = server.logs.slice(logged).filter((record) => Number(record.level) >= 50);
      assert.deepEqual(errors, [], "no error-level log line");
      // A real token still works.
      for (let index = 0; index < 3; index++) await orders.createOrder({ name: `Paged ${index}` }, alice);
      const first = await orders.listOrders({ pageSize: 1 }, alice);
      assert.equal((await orders.listOrders({ pageSize: 1, pageToken: first.nextPageToken }, alice)).orders.length, 1);
    });
  });
}
