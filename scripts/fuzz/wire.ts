import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";

export type Compression = "gzip" | "br";

/** A length-prefixed message as gRPC, gRPC-Web and Connect streams frame them; flag 1 = compressed. */
export function envelope(data: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + data.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, 5);
  return frame;
}

export interface Envelope {
  readonly flags: number;
  readonly data: Buffer;
}

/** Splits a body into its envelopes; `rest` holds bytes that do not make a whole envelope. */
export function splitEnvelopes(body: Buffer): { envelopes: Envelope[]; rest: number } {
  const envelopes: Envelope[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1);
    if (offset + 5 + length > body.length) break;
    envelopes.push({ flags: body.readUInt8(offset), data: body.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return { envelopes, rest: body.length - offset };
}

export function compress(data: Uint8Array, compression: Compression): Buffer {
  return compression === "gzip" ? gzipSync(data) : brotliCompressSync(data);
}

/** Decompresses with the named encoding; throws on an unknown one or on corrupt data. */
export function decompress(data: Buffer, encoding: string): Buffer {
  if (encoding === "gzip") return gunzipSync(data, { maxOutputLength: 64 * 1024 * 1024 });
  if (encoding === "br") return brotliDecompressSync(data, { maxOutputLength: 64 * 1024 * 1024 });
  if (encoding === "identity" || encoding === "") return data;
  throw new Error(`unknown encoding ${JSON.stringify(encoding)}`);
}
