/** How a REST server stream is written: its content type, and the text around each message. */
export interface StreamFormat {
  readonly contentType: string;
  /** Written with the headers. */
  readonly open: string;
  /** One message (its JSON); `first` for the first of the stream. */
  message(json: string, first: boolean): string;
  /** The stream ends normally. */
  close(first: boolean): string;
  /** The stream fails after its first message (a google.rpc.Status as JSON): the end of the stream too. */
  fail(status: string, first: boolean): string;
}

/**
 * The default, as Envoy's transcoder writes a stream: one JSON array, an
 * element per message as it comes. A failure is a last element
 * `{"error": <Status>}`, and the array still closes.
 */
const jsonArray: StreamFormat = {
  contentType: "application/json",
  open: "[",
  message: (json, first) => (first ? json : `,${json}`),
  close: () => "]",
  fail: (status, first) => `${first ? "" : ","}{"error":${status}}]`,
};

/** `Accept: application/x-ndjson`: one JSON object per line; a failure is a last line `{"error": <Status>}`. */
const ndjson: StreamFormat = {
  contentType: "application/x-ndjson",
  open: "",
  message: (json) => `${json}\n`,
  close: () => "",
  fail: (status) => `{"error":${status}}\n`,
};

/**
 * `Accept: text/event-stream`: Server-Sent Events for EventSource. Each
 * message is a `message` event, its data the JSON; a stream that ends well
 * sends an `end` event (an EventSource reconnects to a stream that ends, so
 * a page closes it on `end`); a failure is an `error` event whose data is
 * the Status. No event has an id: a reconnection is a new call, and
 * Last-Event-ID is not read.
 */
const serverSentEvents: StreamFormat = {
  contentType: "text/event-stream",
  open: "",
  message: (json) => `data: ${json}\n\n`,
  close: () => "event: end\ndata: {}\n\n",
  fail: (status) => `event: error\ndata: ${status}\n\n`,
};

/** The format the Accept header asks for: event stream, then NDJSON, else the JSON array. */
export function streamFormat(accept: string | undefined): StreamFormat {
  if (accept === undefined) return jsonArray;
  const types = accept
    .toLowerCase()
    .split(",")
    .filter((range) => !/;\s*q\s*=\s*0(?:\.0*)?\s*(?:;|$)/.test(range))
    .map((range) => range.split(";", 1)[0]?.trim());
  if (types.includes("text/event-stream")) return serverSentEvents;
  if (types.includes("application/x-ndjson")) return ndjson;
  return jsonArray;
}
