import type { OutgoingHttpHeaders } from "node:http";
import type { ConnectError } from "@connectrpc/connect";
import { mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { nodeHeaders } from "../fast-path/answer.js";
import { notModified } from "../interceptors/caching.js";
import type { NodeResponse } from "../transport/http-handler.js";
import { statusBody } from "./status-body.js";

/**
 * True once nothing more can be written: the answer ended, or the client
 * left (an HTTP/2 compatibility response has no `destroyed`: its stream does).
 */
export function gone(res: NodeResponse): boolean {
  if (res.writableEnded) return true;
  return "stream" in res ? res.stream.destroyed || res.stream.closed : res.destroyed;
}

/** Writes a whole JSON answer; the head too, unless the client has left. */
export function writeJson(res: NodeResponse, status: number, headers: OutgoingHttpHeaders, body: string): void {
  if (res.headersSent || gone(res)) return;
  const bytes = Buffer.from(body);
  headers["content-type"] = "application/json";
  headers["content-length"] = String(bytes.byteLength);
  res.writeHead(status, headers);
  res.end(bytes);
}

/**
 * A call's successful answer. A GET whose If-None-Match names the answer's
 * ETag (the caching interceptor's, as for Connect GET) gets 304 without a
 * body.
 */
export function writeMessage(res: NodeResponse, header: Headers, json: string, ifNoneMatch: string | string[] | undefined): void {
  const headers = nodeHeaders(header);
  const kept = typeof ifNoneMatch === "string" ? notModified(ifNoneMatch, 200, headers) : undefined;
  if (kept !== undefined) {
    if (res.headersSent || gone(res)) return;
    res.writeHead(304, kept);
    res.end();
    return;
  }
  writeJson(res, 200, headers, json);
}

/**
 * A failed call's answer: the HTTP status its code maps to (as in Connect),
 * its metadata as headers (x-request-id, retry-after, www-authenticate), a
 * google.rpc.Status body.
 */
export function writeError(res: NodeResponse, header: Headers, error: ConnectError, status = codeToHttpStatus(error.code)): void {
  if (!error.isWireError) mergeNonProtocolHeaders(header, error.metadata);
  writeJson(res, status, nodeHeaders(header), statusBody(error));
}
