import { once } from "node:events";
import type { DescMessage, JsonWriteOptions, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { nodeHeaders } from "../fast-path/answer.js";
import type { CallSignal, StreamOutcome } from "../fast-path/call.js";
import { asConnectError } from "../fast-path/connect-mirror.js";
import type { NodeResponse } from "../transport/http-handler.js";
import { gone, writeError } from "./answers.js";
import { responseJson } from "./response-json.js";
import type { RestRoute } from "./route-table.js";
import { statusBody } from "./status-body.js";
import type { StreamFormat } from "./stream-formats.js";

/**
 * Writes a server stream in `format`, each message as it comes. The head
 * waits for the first message, so a call that fails before any (a missing
 * token, a broken rule) gets its own HTTP status and error body as a unary
 * call does; once it has begun, a failure is the format's last element,
 * line or event (stream-formats.ts). A client that reads slowly pauses the
 * implementation (no message is produced until the last one was taken); one
 * that leaves has the reason thrown into the messages, as on the other
 * paths, so every interceptor sees how the call ended.
 */
export async function writeStream(
  res: NodeResponse,
  route: RestRoute,
  outcome: StreamOutcome,
  format: StreamFormat,
  signal: CallSignal,
  jsonOptions: Partial<JsonWriteOptions>,
): Promise<void> {
  const { header, messages } = outcome;
  let error = outcome.error;
  let first = true;
  if (messages !== undefined) {
    try {
      for (;;) {
        const next = await messages.next();
        if (next.done === true) break;
        if (gone(res)) {
          await messages.throw?.(signal.reason ?? new ConnectError("the client left", Code.Canceled)).catch(() => {});
          return;
        }
        let json: string;
        try {
          json = responseJson(route, next.value as MessageShape<DescMessage>, jsonOptions);
        } catch (serializeError) {
          error = ConnectError.from(serializeError, Code.Internal);
          await messages.throw?.(error).catch(() => {});
          break;
        }
        const text = first ? `${format.open}${format.message(json, true)}` : format.message(json, false);
        if (first) start(res, header, format);
        first = false;
        if (!res.write(text)) await drained(res);
      }
      if (error === undefined) outcome.settleTrailer();
    } catch (thrown) {
      error = asConnectError(thrown);
    }
  }
  if (gone(res)) return;
  if (first && error !== undefined) {
    writeError(res, header, error);
    return;
  }
  if (first) start(res, header, format);
  const ending = error === undefined ? format.close(first) : format.fail(statusBody(error), first);
  res.end(first ? `${format.open}${ending}` : ending);
}

/** The head of a stream: its format's content type, never cached (each request is a new call), not buffered by nginx. */
function start(res: NodeResponse, header: Headers, format: StreamFormat): void {
  header.set("content-type", format.contentType);
  header.set("cache-control", "no-store");
  header.delete("etag");
  header.set("x-accel-buffering", "no");
  res.writeHead(200, nodeHeaders(header));
}

/** Resolves when the response can take more, or the client is gone. */
async function drained(res: NodeResponse): Promise<void> {
  if (gone(res)) return;
  const controller = new AbortController();
  try {
    await Promise.race([once(res, "drain", { signal: controller.signal }), once(res, "close", { signal: controller.signal })]);
  } catch {
    // Aborted below, or the response errored: either way the loop looks again.
  } finally {
    controller.abort();
  }
}
