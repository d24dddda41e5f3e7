import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Order as OrderMessage,
  OrderNotificationTypeEnum,
  OrderSchema,
  type OrderService,
} from "../../../gen/tutorial/order/order_pb.js";
import { ValidationError } from "../../domain/errors.js";
import type { Order, Orders } from "../../domain/orders.js";
import { preview } from "../../domain/text.js";

const ok = OrderNotificationTypeEnum.OK;
const maxDateLength = 64;

/**
 * The order tutorial's contract, answered by the same orders. Its dates are
 * ISO 8601 strings; its updates replace the name and date unless left empty.
 */
export function tutorialOrderService(orders: Orders): ServiceImpl<typeof OrderService> {
  return {
    createOrder: async ({ name, completed, date }) => ({
      notificationType: ok,
      order: toMessage(await orders.create({ name, completed, date: parseDate(date), idempotencyKey: "" })),
    }),

    readOrder: async ({ uuid }) => ({ notificationType: ok, order: toMessage(await orders.get(uuid, "uuid")) }),

    updateOrder: async ({ uuid, name, completed, date }) => ({
      notificationType: ok,
      order: toMessage(await orders.update(uuid, { name: name === "" ? undefined : name, completed, date: parseDate(date) }, "", "uuid")),
    }),

    deleteOrder: async ({ uuid }) => {
      await orders.delete(uuid, "", "uuid");
      return { notificationType: ok, success: true };
    },

    listOrders: async () => ({ notificationType: ok, orders: (await orders.all()).map(toMessage) }),
  };
}

/** ISO 8601; a date-time without an offset is taken as UTC, whatever the server's time zone. */
function parseDate(text: string): Date | undefined {
  // The longest ISO 8601 form taken here is 35 characters: refuse far longer text unread.
  if (text.length > maxDateLength) throw invalidDate(text);
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const isoDateTime = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(trimmed);
  if (isoDateTime === null) throw invalidDate(text);
  const hasTime = isoDateTime[1] !== undefined;
  const hasOffset = isoDateTime[4] !== undefined;
  // Date.parse reads at most milliseconds; drop further digits first.
  const normalised = trimmed.replace(/(\.\d{3})\d+/, "$1") + (hasTime && !hasOffset ? "Z" : "");
  const date = new Date(normalised);
  if (Number.isNaN(date.getTime())) throw invalidDate(text);
  return date;
}

function invalidDate(text: string): ValidationError {
  return new ValidationError(
    "date",
    "iso8601",
    `date must be an ISO 8601 date or date-time such as 2024-05-01T12:00:00Z, got "${preview(text)}"`,
  );
}

function toMessage(order: Order): OrderMessage {
  return create(OrderSchema, { uuid: order.id, name: order.name, completed: order.completed, date: order.date.toISOString() });
}
