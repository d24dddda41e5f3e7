import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Order as OrderMessage,
  OrderNotificationTypeEnum,
  OrderSchema,
  type OrderService,
} from "../../../gen/tutorial/order/order_pb.js";
import { ValidationError } from "../../domain/errors.js";
import { type Instant, parseInstant } from "../../domain/instant.js";
import type { Order, Orders } from "../../domain/orders.js";
import { preview } from "../../domain/text.js";
import { orderCaller } from "../order-caller.js";

const ok = OrderNotificationTypeEnum.OK;
const maxDateLength = 64;

/**
 * The order tutorial's contract, answered by the same orders. Its dates are
 * strings: RFC 3339 and the forms Python writes (see parseInstant), given
 * back as RFC 3339 in UTC with the same instant, to the microsecond. Its
 * updates replace the name and date unless left empty. It has no paging, so
 * ListOrders answers the caller's newest 500 orders (see Orders.newest).
 */
export function tutorialOrderService(orders: Orders): ServiceImpl<typeof OrderService> {
  return {
    createOrder: async ({ name, completed, date }, context) => ({
      notificationType: ok,
      order: toMessage(await orders.create(orderCaller(context), { name, completed, date: parseDate(date), idempotencyKey: "" })),
    }),

    readOrder: async ({ uuid }, context) => ({
      notificationType: ok,
      order: toMessage(await orders.get(orderCaller(context), uuid)),
    }),

    updateOrder: async ({ uuid, name, completed, date }, context) => ({
      notificationType: ok,
      order: toMessage(
        await orders.update(orderCaller(context), uuid, { name: name === "" ? undefined : name, completed, date: parseDate(date) }, ""),
      ),
    }),

    deleteOrder: async ({ uuid }, context) => {
      await orders.delete(orderCaller(context), uuid, "");
      return { notificationType: ok, success: true };
    },

    listOrders: async (_request, context) => ({ notificationType: ok, orders: (await orders.newest(orderCaller(context))).map(toMessage) }),
  };
}

/** Empty means none; a date-time without an offset is taken as UTC, whatever the server's time zone. */
function parseDate(text: string): Instant | undefined {
  // Real dates are at most about 40 characters: refuse far longer text unread.
  if (text.length > maxDateLength) throw invalidDate(text);
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const instant = parseInstant(trimmed);
  if (instant === undefined) throw invalidDate(text);
  return instant;
}

function invalidDate(text: string): ValidationError {
  return new ValidationError(
    "date",
    "iso8601",
    `date must be an ISO 8601 date or date-time such as 2024-05-01T12:00:00Z, got "${preview(text)}"`,
  );
}

function toMessage(order: Order): OrderMessage {
  return create(OrderSchema, { uuid: order.id, name: order.name, completed: order.completed, date: order.date.toString() });
}
