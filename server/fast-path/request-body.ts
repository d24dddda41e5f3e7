import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { CallPlan } from "./plan.js";

/** A request message, or undefined when the body is not one well-formed message. */
export type Decoded = MessageShape<DescMessage> | undefined;

/**
 * The request message of a complete request body, decoded as connect-es
 * decodes it (same serialization, limits and decompression), or undefined
 * when the body is anything but one well-formed message: connect-node then
 * reads the same bytes and answers with its own words (see slow-path.ts).
 * Only a compressed message is decoded later (a promise).
 */
export function decodeRequest(plan: CallPlan, body: Uint8Array, readMaxBytes: number): Decoded | Promise<Decoded> {
  const message = messageBytes(plan, body);
  if (message === undefined) return undefined;
  const { data, compressed } = message;
  if (compressed && plan.requestCompression !== null) {
    // Edge cases (an empty compressed body) are connect-node's to answer.
    if (data.byteLength === 0) return undefined;
    return decompressed(plan, data, readMaxBytes);
  }
  return parsed(plan, data);
}

/**
 * The size of the request message decoded from `body`, in binary protobuf,
 * as it was read; undefined when the body is JSON or compressed.
 */
export function binaryRequestSize(plan: CallPlan, body: Uint8Array): number | undefined {
  if (!plan.binary) return undefined;
  const message = messageBytes(plan, body);
  return message === undefined || message.compressed ? undefined : message.data.byteLength;
}

/** The message in a complete request body, or undefined when the body is not one well-formed envelope. */
function messageBytes(plan: CallPlan, body: Uint8Array): { data: Uint8Array; compressed: boolean } | undefined {
  if (plan.requestMethod === "GET") return { data: plan.getMessage ?? new Uint8Array(0), compressed: false };
  if (plan.protocol === "connect") return { data: body, compressed: plan.requestCompression !== null };
  // One envelope: a flags byte (0, or 1 when compressed), a 4-byte length, that many bytes.
  if (body.byteLength < 5) return undefined;
  const flags = body[0];
  const length = (body[1] ?? 0) * 2 ** 24 + (((body[2] ?? 0) << 16) | ((body[3] ?? 0) << 8) | (body[4] ?? 0));
  if ((flags !== 0 && flags !== 1) || length !== body.byteLength - 5) return undefined;
  if (flags === 1 && plan.requestCompression === null) return undefined;
  return { data: body.subarray(5), compressed: flags === 1 };
}

async function decompressed(plan: CallPlan, data: Uint8Array, readMaxBytes: number): Promise<Decoded> {
  try {
    return parsed(plan, await (plan.requestCompression as NonNullable<CallPlan["requestCompression"]>).decompress(data, readMaxBytes));
  } catch {
    return undefined;
  }
}

function parsed(plan: CallPlan, data: Uint8Array): Decoded {
  try {
    return plan.entry.serialization.getI(plan.binary).parse(data);
  } catch {
    return undefined;
  }
}
