import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { RawRequest } from "../case.js";
import type { Headers, Limits, RawH1Outcome, RawH1Response } from "../outcome.js";

/**
 * Writes raw bytes on a new connection and reads HTTP/1.1 responses until
 * the first final response is complete, the server closes, or the deadline.
 * When the server stays silent for `quietMs` (it waits for more of a request
 * cut short), the client closes its side and the server must then end the
 * connection within the deadline.
 */
export function sendRawH1(port: number, request: RawRequest, limits: Limits): Promise<RawH1Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let received: Buffer = Buffer.alloc(0);
    let settled = false;
    let halfClosed = false;
    const finish = (closedByServer: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearInterval(quietCheck);
      socket.destroy();
      const parsed = parseResponses(received, request.head === true);
      resolve({
        kind: "raw-h1",
        responses: parsed.responses,
        unparsed: parsed.unparsed,
        closedByServer,
        timedOut,
        ms: performance.now() - started,
      });
    };
    const deadline = setTimeout(() => finish(false, true), limits.deadlineMs);
    let lastActivity = performance.now();
    const quietCheck = setInterval(
      () => {
        if (!halfClosed && performance.now() - lastActivity >= limits.quietMs) {
          halfClosed = true;
          socket.end();
        }
      },
      Math.max(10, limits.quietMs / 4),
    );
    socket.on("data", (chunk: Buffer) => {
      lastActivity = performance.now();
      if (received.length < 16 * 1024 * 1024) received = Buffer.concat([received, chunk]);
      const parsed = parseResponses(received, request.head === true);
      if (parsed.responses.some((response) => response.status >= 200) && parsed.complete) finish(false, false);
    });
    socket.on("end", () => finish(true, false));
    socket.on("close", () => finish(true, false));
    socket.on("error", () => finish(true, false));
    socket.once("connect", async () => {
      for (const [i, chunk] of request.chunks.entries()) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (i < request.chunks.length - 1) await sleep(1);
      }
      lastActivity = performance.now();
      if (request.endAfterWrite && !socket.destroyed) {
        halfClosed = true;
        socket.end();
      }
    });
  });
}

/** Parses as many whole responses as `data` holds; `complete` is true when the last one parsed has all its body. */
export function parseResponses(
  data: Buffer,
  head: boolean,
): { responses: RawH1Response[]; unparsed: string | undefined; complete: boolean } {
  const responses: RawH1Response[] = [];
  let offset = 0;
  while (offset < data.length) {
    const end = data.indexOf("\r\n\r\n", offset);
    if (end < 0) {
      const rest = data.subarray(offset);
      const looksLikeStart =
        "HTTP/1.1 ".startsWith(rest.subarray(0, 9).toString("latin1")) || rest.toString("latin1").startsWith("HTTP/1.");
      return { responses, unparsed: looksLikeStart ? undefined : preview(rest), complete: false };
    }
    const [statusLine = "", ...lines] = data.subarray(offset, end).toString("latin1").split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (match === null) return { responses, unparsed: preview(data.subarray(offset)), complete: false };
    const status = Number(match[1]);
    const headers: Headers = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) return { responses, unparsed: `bad header line ${JSON.stringify(line)}`, complete: false };
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let bodyStart = end + 4;
    let body: Buffer = Buffer.alloc(0);
    let trailers: Headers | undefined;
    const noBody = head || status < 200 || status === 204 || status === 304;
    if (!noBody) {
      const length = headers["content-length"];
      if (String(headers["transfer-encoding"] ?? "").toLowerCase() === "chunked") {
        const chunked = readChunked(data, bodyStart);
        if (chunked === undefined) return { responses: [...responses, { status, headers, body }], unparsed: undefined, complete: false };
        body = chunked.body;
        trailers = Object.keys(chunked.trailers).length > 0 ? chunked.trailers : undefined;
        bodyStart = chunked.end;
      } else if (length !== undefined) {
        const n = Number(length);
        if (bodyStart + n > data.length)
          return { responses: [...responses, { status, headers, body }], unparsed: undefined, complete: false };
        body = data.subarray(bodyStart, bodyStart + n);
        bodyStart += n;
      } else {
        // Delimited by the end of the connection.
        return { responses: [...responses, { status, headers, body: data.subarray(bodyStart) }], unparsed: undefined, complete: false };
      }
    }
    responses.push({ status, headers, body, trailers });
    offset = bodyStart;
    if (status >= 200) return { responses, unparsed: undefined, complete: true };
  }
  return { responses, unparsed: undefined, complete: responses.length > 0 };
}

function readChunked(data: Buffer, start: number): { body: Buffer; trailers: Headers; end: number } | undefined {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "", 16);
    if (!Number.isFinite(size)) return undefined;
    offset = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = data.indexOf("\r\n\r\n", offset - 2);
      if (trailerEnd < 0) return undefined;
      const trailers: Headers = {};
      for (const line of data.subarray(offset, trailerEnd).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      return { body: Buffer.concat(parts), trailers, end: trailerEnd + 4 };
    }
    if (offset + size + 2 > data.length) return undefined;
    parts.push(data.subarray(offset, offset + size));
    offset += size + 2;
  }
}

function preview(data: Buffer): string {
  return JSON.stringify(data.subarray(0, 80).toString("latin1"));
}
