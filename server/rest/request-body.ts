import type { JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { preview } from "../domain/text.js";
import { readBody } from "../fast-path/read-body.js";
import type { NodeRequest } from "../transport/http-handler.js";
import type { Upload } from "../transport/upload-budget.js";
import { Refusal } from "./refusal.js";
import type { RestRoute } from "./route-table.js";

/** JSON, in UTF-8 (the only charset JSON has, RFC 8259 §8.1). */
const jsonType = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * Reads a REST request's body, bounded before anything grows with it:
 * a route with a body takes `application/json` only (a form, text/plain or
 * multipart, which other sites' pages can send without asking, gets 415);
 * one announced or found longer than READ_MAX_BYTES is RESOURCE_EXHAUSTED,
 * as in the other protocols; JSON too deep or too long for any request
 * message, or not UTF-8, is refused before it is parsed (json-shape.ts).
 * A route without a body takes an empty one. The body counts against the
 * `upload` budget while it arrives (transport/upload-budget.ts). Returns the JSON (undefined
 * for an empty body); throws a Refusal or a ConnectError, and the caller
 * reads the rest of the body before it answers.
 */
export async function readRequestBody(
  req: NodeRequest,
  route: RestRoute,
  readMaxBytes: number,
  decoder: { decode(input?: Uint8Array): string },
  upload?: Upload,
): Promise<JsonValue | undefined> {
  const contentType = req.headers["content-type"];
  if (route.body.kind !== "none" && (contentType === undefined || !jsonType.test(contentType))) {
    const sent = contentType === undefined ? "no content-type" : `content-type "${preview(contentType)}"`;
    throw new Refusal(
      415,
      new ConnectError(`${route.name} takes a JSON body: send content-type: application/json, not ${sent}`, Code.InvalidArgument),
    );
  }
  const announced = req.headers["content-length"];
  if (announced !== undefined && !(Number(announced) <= readMaxBytes)) throw tooLarge(announced, readMaxBytes);
  const body = await readBody(req, readMaxBytes, upload);
  if (body.rest !== undefined) throw tooLarge(undefined, readMaxBytes);
  if (body.bytes.byteLength === 0) return undefined;
  if (route.body.kind === "none") {
    throw new ConnectError(`${route.name} takes no body: its fields come from the path and the query`, Code.InvalidArgument);
  }
  let text: string;
  try {
    text = decoder.decode(body.bytes);
  } catch (error) {
    throw new ConnectError((error as Error).message, Code.InvalidArgument);
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new ConnectError(`the request body is not valid JSON: ${preview((error as Error).message, 200)}`, Code.InvalidArgument);
  }
}

function tooLarge(announced: string | undefined, readMaxBytes: number): ConnectError {
  const size = announced === undefined ? "more than" : `${preview(announced)} bytes, more than`;
  return new ConnectError(`the request body is ${size} the ${readMaxBytes} bytes allowed (READ_MAX_BYTES)`, Code.ResourceExhausted);
}
