/** What came back for a case, whatever the transport. */
export type Outcome = Answer | Reset | Closed | Hang | ClientRefused | RawH1Outcome | RawH2Outcome;

export type Headers = Record<string, string | string[] | undefined>;

/** An HTTP response (node:http or node:http2). */
export interface Answer {
  readonly kind: "answer";
  readonly status: number;
  readonly headers: Headers;
  /** HTTP/2 trailers, or HTTP/1.1 chunked trailers; undefined when there were none. */
  readonly trailers: Headers | undefined;
  readonly body: Buffer;
  readonly ms: number;
  /** The client ended an open-ended stream after a while (not an error). */
  readonly cutByClient: boolean;
  /** HTTP/2: the stream was reset after the response started (code), e.g. NO_ERROR after an early answer. */
  readonly rstCode?: number;
}

/** HTTP/2: the stream was reset before any response headers. */
export interface Reset {
  readonly kind: "reset";
  readonly code: number;
  readonly ms: number;
}

/** The connection ended (or failed) with no response. */
export interface Closed {
  readonly kind: "closed";
  readonly error: string;
  readonly ms: number;
}

/** Nothing (or not everything) arrived within the deadline. */
export interface Hang {
  readonly kind: "hang";
  readonly ms: number;
  /** What had arrived: nothing, headers only, part of a body. */
  readonly partial: string;
}

/** The client library refused to send the request (an invalid header for it): not sent, not judged. */
export interface ClientRefused {
  readonly kind: "client-refused";
  readonly error: string;
}

export interface RawH1Response {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  /** From a chunked body's trailer section (gRPC over HTTP/1.1 puts its status there). */
  readonly trailers?: Headers;
}

export interface RawH1Outcome {
  readonly kind: "raw-h1";
  /** Complete responses read, in order (a 100 Continue included). */
  readonly responses: RawH1Response[];
  /** Bytes that did not parse as an HTTP/1.1 response, if any. */
  readonly unparsed: string | undefined;
  readonly closedByServer: boolean;
  readonly timedOut: boolean;
  readonly ms: number;
}

export interface RawH2Outcome {
  readonly kind: "raw-h2";
  /** Statuses of response HEADERS whose :status could be read without the dynamic table. */
  readonly statuses: number[];
  /** Response HEADERS whose :status could not be read that way. */
  readonly undecodedStatuses: number;
  readonly resets: Array<{ stream: number; code: number }>;
  readonly goaway: { code: number; lastStream: number; debug: string } | undefined;
  /** Streams the case expected an answer on that got none. */
  readonly unanswered: number[];
  /** After a silence, the server acknowledged a PING: it reads the connection but left those streams alone. */
  readonly pingAnswered: boolean;
  readonly closedByServer: boolean;
  readonly timedOut: boolean;
  readonly ms: number;
}

/** Per-case time limits. */
export interface Limits {
  /** Every answer must start (and a finite call end) within this. */
  readonly deadlineMs: number;
  /** An open-ended stream is ended by the client after this long. */
  readonly openEndedMs: number;
  /** Raw connections: silence this long means the server waits for more; the client then closes its side. */
  readonly quietMs: number;
}
