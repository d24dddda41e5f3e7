import type { CallPlan } from "./plan.js";

/**
 * The request message of a complete request body, decoded as connect-es
 * decodes it (same serialization, limits and decompression), or undefined
 * when the body is anything but one well-formed message: connect-node then
 * reads the same bytes and answers with its own words (see slow-path.ts).
 */
export async function decodeRequest(plan: CallPlan, body: Uint8Array, readMaxBytes: number): Promise<unknown> {
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
  try {
    if (compressed && plan.requestCompression !== null) {
      // Edge cases (an empty compressed body) are connect-node's to answer.
      if (data.byteLength === 0) return undefined;
      data = await plan.requestCompression.decompress(data, readMaxBytes);
    }
    return plan.entry.serialization.getI(plan.binary).parse(data);
  } catch {
    return undefined;
  }
}
