/** HTTP/2 frames written and read by hand (RFC 9113), with just enough HPACK (RFC 7541) to send headers and read a status. */

export const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = Buffer.alloc(0),
  declaredLength?: number,
): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE((declaredLength ?? payload.length) & 0xffffff, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([header, payload]);
}

export function settings(values: ReadonlyArray<readonly [number, number]> = []): Buffer {
  const payload = Buffer.alloc(6 * values.length);
  values.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value >>> 0, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

/** An HPACK integer with an N-bit prefix; `high` holds the bits above the prefix in the first byte. */
export function hpackInt(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, "latin1");
  return Buffer.concat([hpackInt(bytes.length, 7), bytes]);
}

/** A header block of literal fields without indexing, no Huffman: every name and value exactly as given. */
export function headerBlock(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(headers.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

export interface ReadFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Reads whole frames from a growing buffer; returns them and the bytes left over. */
export function readFrames(buffer: Buffer): { frames: ReadFrame[]; rest: Buffer } {
  const frames: ReadFrame[] = [];
  let offset = 0;
  while (offset + 9 <= buffer.length) {
    const length = buffer.readUIntBE(offset, 3);
    if (offset + 9 + length > buffer.length) break;
    frames.push({
      type: buffer[offset + 3] ?? 0,
      flags: buffer[offset + 4] ?? 0,
      streamId: buffer.readUInt32BE(offset + 5) & 0x7fffffff,
      payload: buffer.subarray(offset + 9, offset + 9 + length),
    });
    offset += 9 + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/** HPACK's static table entries for :status (index → status). */
const staticStatus = new Map([
  [8, 200],
  [9, 204],
  [10, 206],
  [11, 304],
  [12, 400],
  [13, 404],
  [14, 500],
]);

/**
 * The :status of a response header block, when it can be read without the
 * connection's dynamic table: a static index, or a literal (Huffman-coded or
 * not) naming :status. Servers put :status first. Undefined otherwise.
 */
export function statusOf(block: Buffer): number | undefined {
  let offset = 0;
  // Dynamic table size updates may come first.
  while (offset < block.length && ((block[offset] ?? 0) & 0xe0) === 0x20) {
    const [, next] = readInt(block, offset, 5);
    offset = next;
  }
  const first = block[offset];
  if (first === undefined) return undefined;
  if (first & 0x80) {
    const [index] = readInt(block, offset, 7);
    return staticStatus.get(index);
  }
  const prefix = first & 0x40 ? 6 : 4;
  const [nameIndex, afterName] = readInt(block, offset, prefix);
  if (nameIndex < 8 || nameIndex > 14) return undefined;
  const huffman = ((block[afterName] ?? 0) & 0x80) !== 0;
  const [length, start] = readInt(block, afterName, 7);
  const value = block.subarray(start, start + length);
  const text = huffman ? huffmanDigits(value) : value.toString("latin1");
  return text !== undefined && /^\d{3}$/.test(text) ? Number(text) : undefined;
}

function readInt(block: Buffer, offset: number, prefixBits: number): [number, number] {
  const max = (1 << prefixBits) - 1;
  let value = (block[offset] ?? 0) & max;
  let position = offset + 1;
  if (value < max) return [value, position];
  let shift = 0;
  for (;;) {
    const byte = block[position++];
    if (byte === undefined || shift > 28) return [Number.NaN, position];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, position];
  }
}

/** Decodes a Huffman-coded string of digits (RFC 7541 Appendix B: '0'–'2' are 5 bits, '3'–'9' are 6). */
export function huffmanDigits(data: Buffer): string | undefined {
  let bits = "";
  for (const byte of data) bits += byte.toString(2).padStart(8, "0");
  let text = "";
  let at = 0;
  while (at < bits.length) {
    const rest = bits.slice(at);
    if (rest.length < 8 && /^1*$/.test(rest)) break; // padding: the most significant bits of EOS
    const five = Number.parseInt(rest.slice(0, 5), 2);
    if (rest.length >= 5 && five <= 2) {
      text += String(five);
      at += 5;
      continue;
    }
    const six = Number.parseInt(rest.slice(0, 6), 2);
    if (rest.length >= 6 && six >= 0x19 && six <= 0x1f) {
      text += String(six - 0x19 + 3);
      at += 6;
      continue;
    }
    return undefined;
  }
  return text;
}

/** RST_STREAM and GOAWAY error codes by number (RFC 9113 §7). */
export const errorCodes = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
];

export function errorName(code: number): string {
  return errorCodes[code] ?? `0x${code.toString(16)}`;
}
