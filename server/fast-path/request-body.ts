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
  let data: Uint8Array;
  let compressed: boolean;
  if (plan.requestMethod === "GET") {
    data = plan.getMessage ?? new Uint8Array(0);
    compressed = false;
  } else if (plan.protocol === "connect") {
    data = body;
    compressed = plan.requestCompression !== null;
  } else {
    // One envelope: a flags byte (0, or 1 when compressed), a 4-byte length, that many bytes.
    if (body.byteLength < 5) return undefined;
    const flags = body[0];
    const length = (body[1] ?? 0) * 2 ** 24 + (((body[2] ?? 0) << 16) | ((body[3] ?? 0) << 8) | (body[4] ?? 0));
    if ((flags !== 0 && flags !== 1) || length !== body.byteLength - 5) return undefined;
    if (flags === 1 && plan.requestCompression === null) return undefined;
    data = body.subarray(5);
    compressed = flags === 1;
  }
  if (compressed && plan.requestCompression !== null) {
    // Edge cases (an empty compressed body) are connect-node's to answer.
    if (data.byteLength === 0) return undefined;
    return decompressed(plan, data, readMaxBytes);
  }
  return parsed(plan, data);
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
