import { once } from "node:events";
import * as net from "node:net";

/**
 * HTTP/2 written by hand, frame by frame, for what no well-behaved client
 * sends: streams reset as soon as they are opened, requests without
 * :authority, connections that never open a stream.
 */

export const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const frameType = { data: 0x0, headers: 0x1, rstStream: 0x3, settings: 0x4, ping: 0x6, goaway: 0x7 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK string literal, not Huffman-coded. */
function literal(text: string): Buffer {
  const bytes: Buffer = Buffer.from(text, "latin1");
  return Buffer.concat([hpackInteger(bytes.length, 7, 0x00), bytes]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInteger(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const bytes = [firstByteFlags | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/**
 * A header block for a POST over http: each field a literal without indexing,
 * so blocks are independent of each other (no dynamic table).
 */
export function headerBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [Buffer.from([0x83, 0x86])]; // :method POST, :scheme http (static table)
  for (const [name, value] of fields) parts.push(Buffer.from([0x00]), literal(name), literal(value));
  return Buffer.concat(parts);
}

/** HEADERS with END_HEADERS, and END_STREAM if asked. */
export function headersFrame(streamId: number, block: Buffer, endStream: boolean): Buffer {
  return frame(frameType.headers, 0x4 | (endStream ? 0x1 : 0), streamId, block);
}

export function rstStreamFrame(streamId: number, errorCode = 0x8 /* CANCEL */): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(errorCode);
  return frame(frameType.rstStream, 0, streamId, payload);
}

export const emptySettings = (): Buffer => frame(frameType.settings, 0, 0);
export const settingsAck = (): Buffer => frame(frameType.settings, 0x1, 0);

export interface ParsedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/**
 * A raw HTTP/2 connection: writes what it is given and parses what comes
 * back; ACKs the server's SETTINGS so the server treats it as a client.
 */
export class RawH2Connection {
  readonly frames: ParsedFrame[] = [];
  readonly closed: Promise<void>;
  private buffered = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => {}); // a reset by the server shows as "closed"
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    void this.closed.then(() => this.wake());
  }

  static async open(port: number, options: { localAddress?: string } = {}): Promise<RawH2Connection> {
    const socket = net.connect({ port, host: "127.0.0.1", ...options });
    await once(socket, "connect");
    const connection = new RawH2Connection(socket);
    connection.write(Buffer.concat([preface, emptySettings()]));
    return connection;
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  /** Writes unless the connection is gone; resolves when the socket can take more. */
  write(bytes: Buffer): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    if (this.socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.once("drain", done);
      this.socket.once("close", done);
    });
  }

  /** The GOAWAY frames received: their error codes, in order. */
  goawayCodes(): number[] {
    return this.frames.filter((f) => f.type === frameType.goaway).map((f) => f.payload.readUInt32BE(4));
  }

  /** Resolves once a frame matching `match` has arrived, or the connection has closed (then undefined). */
  async waitFor(match: (f: ParsedFrame) => boolean): Promise<ParsedFrame | undefined> {
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (this.socket.destroyed) return undefined;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    let offset = 0;
    while (offset + 9 <= this.buffered.length) {
      const length = this.buffered.readUIntBE(offset, 3);
      if (offset + 9 + length > this.buffered.length) break;
      const parsed: ParsedFrame = {
        type: this.buffered[offset + 3] ?? 0,
        flags: this.buffered[offset + 4] ?? 0,
        streamId: this.buffered.readUInt32BE(offset + 5) & 0x7fffffff,
        payload: this.buffered.subarray(offset + 9, offset + 9 + length),
      };
      this.frames.push(parsed);
      if (parsed.type === frameType.settings && (parsed.flags & 0x1) === 0) void this.write(settingsAck());
      offset += 9 + length;
    }
    this.buffered = this.buffered.subarray(offset);
    this.wake();
  }

  private wake(): void {
    for (const wake of [...this.waiters]) {
      this.waiters.delete(wake);
      wake();
    }
  }
}
