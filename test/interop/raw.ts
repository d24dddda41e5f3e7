import * as http from "node:http";
import * as http2 from "node:http2";

/** What came back for a raw request: status, headers, body, and trailers (HTTP/2). */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly trailers: Record<string, string | string[] | undefined>;
}

export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: Uint8Array | string;
}

/** One request over a fresh HTTP/2 (h2c prior knowledge) connection, for what no generated client would send. */
export function h2Request(baseUrl: string, { method = "POST", path, headers = {}, body }: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const stream = session.request({ ":method": method, ":path": path, ...headers });
    let status = 0;
    let responseHeaders: RawResponse["headers"] = {};
    let trailers: RawResponse["trailers"] = {};
    const chunks: Buffer[] = [];
    stream.on("response", (received) => {
      status = Number(received[":status"]);
      responseHeaders = received;
    });
    stream.on("trailers", (received) => (trailers = received));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    // Closed by the server even when it answered before reading the whole
    // body (an over-size message): it resets the rest of the request once
    // its answer is complete.
    stream.on("close", () => {
      session.close();
      resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), trailers });
    });
    stream.end(body === undefined ? undefined : Buffer.from(body));
  });
}

/** One request over HTTP/1.1. */
export function h1Request(baseUrl: string, { method = "POST", path, headers = {}, body }: RawRequest): Promise<RawResponse> {
  const length = body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(path, baseUrl), { method, headers: { ...length, ...headers }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), trailers: response.trailers }),
      );
    });
    request.on("error", reject);
    request.end(body === undefined ? undefined : Buffer.from(body));
  });
}

/** The value of a header that is sent once. */
export function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * `message` padded with an unknown length-delimited field (number 1000) to
 * exactly `size` bytes: still a valid message, which servers must accept and
 * ignore the field of.
 */
export function paddedTo(message: Uint8Array, size: number): Uint8Array {
  const tag = [0xc2, 0x3e]; // field 1000, wire type 2, as a varint
  for (let payload = size - message.length - tag.length - 1; payload >= 0; payload--) {
    const length = varint(payload);
    if (message.length + tag.length + length.length + payload === size) {
      return Buffer.concat([message, Buffer.from(tag), Buffer.from(length), Buffer.alloc(payload, 0x61)]);
    }
  }
  throw new Error(`cannot pad ${message.length} bytes to ${size}`);
}

function varint(value: number): number[] {
  const bytes = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return bytes;
}
