import { create } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { OrderChangeType, type Order as OrderMessage, OrderSchema, type OrderService } from "../../gen/order/v1/order_pb.js";
import { ValidationError } from "../domain/errors.js";
import { Instant } from "../domain/instant.js";
import { type OrderChangeType as ChangeType, etagOf, type Order, type Orders } from "../domain/orders.js";
import { orderCaller } from "./order-caller.js";

const changeTypes: Record<ChangeType, OrderChangeType> = {
  created: OrderChangeType.CREATED,
  updated: OrderChangeType.UPDATED,
  deleted: OrderChangeType.DELETED,
};

export function orderService(orders: Orders): ServiceImpl<typeof OrderService> {
  return {
    createOrder: async ({ name, completed, date, idempotencyKey }, context) => ({
      order: toMessage(await orders.create(orderCaller(context), { name, completed, date: toInstant(date), idempotencyKey })),
    }),

    getOrder: async ({ id }, context) => ({ order: toMessage(await orders.get(orderCaller(context), id)) }),

    updateOrder: async ({ id, name, completed, date, etag }, context) => ({
      order: toMessage(await orders.update(orderCaller(context), id, { name, completed, date: toInstant(date) }, etag)),
    }),

    deleteOrder: async ({ id, etag }, context) => {
      await orders.delete(orderCaller(context), id, etag);
      return {};
    },

    listOrders: async ({ pageSize, pageToken, completed }, context) => {
      const page = await orders.list(orderCaller(context), { pageSize, pageToken, completed });
      return { orders: page.orders.map(toMessage), nextPageToken: page.nextPageToken };
    },

    async *watchOrders(_request, context) {
      for await (const event of orders.watch(orderCaller(context), context.signal)) {
        yield event.type === "started" ? { started: true } : { type: changeTypes[event.type], order: toMessage(event.order) };
      }
    },
  };
}

/** Kept to the microsecond, as PostgreSQL keeps it: further nanoseconds are dropped. */
function toInstant(timestamp: Timestamp | undefined): Instant | undefined {
  if (timestamp === undefined) return undefined;
  if (timestamp.nanos < 0 || timestamp.nanos > 999_999_999) {
    throw new ValidationError("date", "nanos", `date.nanos must be from 0 to 999999999, got ${timestamp.nanos}`);
  }
  return Instant.fromSecondsAndNanos(timestamp.seconds, timestamp.nanos);
}

function toMessage(order: Order): OrderMessage {
  return create(OrderSchema, {
    id: order.id,
    name: order.name,
    completed: order.completed,
    date: create(TimestampSchema, order.date.toSecondsAndNanos()),
    createTime: timestampFromDate(order.createTime),
    updateTime: timestampFromDate(order.updateTime),
    etag: etagOf(order),
  });
}
