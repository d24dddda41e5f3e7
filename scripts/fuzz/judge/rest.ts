import type { Case } from "../case.js";
import type { Answer } from "../outcome.js";
import type { Judged } from "./rpc.js";
import { header } from "./rpc.js";

/** google.rpc.Status codes the server answers a client's request with; INTERNAL, UNKNOWN and DATA_LOSS are its own faults. */
const serverFaults = new Set([2, 13, 15]);

/**
 * A REST answer: never a server error for what a client sent (504 only when
 * the request asked for a deadline); an error is a google.rpc.Status in JSON
 * (or, refused by the listener before REST saw it, its plain or Connect
 * answer); a 200 is JSON, NDJSON or Server-Sent Events that parse, a stream
 * that failed ending with its error in the same shape. A request nothing
 * was done to may be refused by the contract's rules or not find its
 * resource, but never for its route, method, content type or query.
 */
export function judgeRest(c: Case, answer: Answer): Judged {
  const problems: string[] = [];
  const contentType = header(answer.headers, "content-type") ?? "";
  const text = answer.body.toString("utf8");
  const label = `rest ${answer.status}`;
  if (answer.status >= 500 && !(answer.status === 504 && c.deadlineSent)) {
    problems.push(`HTTP ${answer.status} (a server error): ${JSON.stringify(text.slice(0, 160))}`);
  }
  if (c.request.kind === "http" && c.request.method === "HEAD") {
    // No body, whatever the status: Node leaves it out.
    if (answer.body.length > 0) problems.push(`a HEAD answer with a body of ${answer.body.length} bytes`);
    return { label: `${label} HEAD`, problems };
  }
  if (answer.status === 304) {
    if (c.request.kind !== "http" || !c.request.headers.some(([name]) => name === "if-none-match"))
      problems.push("304 without If-None-Match");
    return { label, problems };
  }
  if (answer.status === 200) {
    problems.push(...judgeBody(c, contentType, text, answer.cutByClient));
    return { label: `${label} ${contentType.split(";")[0]}`, problems };
  }
  if (!contentType.startsWith("application/json")) {
    // The listener's refusals (431 for a request line over MAX_HEADER_BYTES, Node's 400 for bytes it cannot parse).
    if (c.mutations.length === 0) problems.push(`a valid request got HTTP ${answer.status} ${contentType}`);
    return { label: `${label} (plain)`, problems };
  }
  const status = parse(text, problems);
  if (status === undefined) return { label: `${label} bad body`, problems };
  if (typeof status.code === "string") {
    // Connect's shape: a refusal by the listener's screening, which speaks every protocol's common form.
    if (![400, 421, 431].includes(answer.status)) problems.push(`a Connect-shaped error from REST: ${text.slice(0, 160)}`);
    return { label: `${label} (listener)`, problems };
  }
  problems.push(...checkStatus(status, c));
  if (c.mutations.length === 0) {
    const code = status.code as number;
    // The contract's rules and the domain may refuse random values (INVALID_ARGUMENT, OUT_OF_RANGE).
    const fair =
      (answer.status === 400 && (code === 3 || code === 11)) ||
      (answer.status === 404 && code === 5 && !/no REST route/.test(String(status.message))) ||
      answer.status === 409 ||
      (answer.status === 504 && c.deadlineSent);
    if (!fair) problems.push(`a valid request was refused: HTTP ${answer.status} ${text.slice(0, 160)}`);
  }
  return { label: `${label} code ${String(status.code)}`, problems };
}

function judgeBody(c: Case, contentType: string, text: string, cut: boolean): string[] {
  const problems: string[] = [];
  if (contentType === "application/x-ndjson") {
    const lines = text.split("\n");
    const last = lines.pop();
    if (!cut && last !== "") problems.push("NDJSON that does not end with a newline");
    for (const line of lines) {
      const value = parse(line, problems);
      if (isError(value)) problems.push(...checkStatus(value.error, c));
    }
    return problems;
  }
  if (contentType === "text/event-stream") {
    const blocks = text.split("\n\n");
    const rest = blocks.pop();
    if (!cut && rest !== "") problems.push("an event stream that does not end with a blank line");
    for (const block of blocks) {
      const data = block.split("\n").find((line) => line.startsWith("data: "));
      if (data === undefined) {
        problems.push(`an event without data: ${JSON.stringify(block.slice(0, 80))}`);
        continue;
      }
      const value = parse(data.slice("data: ".length), problems);
      if (block.startsWith("event: error")) problems.push(...checkStatus(value as Record<string, unknown>, c));
    }
    return problems;
  }
  if (!contentType.startsWith("application/json")) return [`a 200 answered ${contentType}`];
  if (cut) {
    if (!text.startsWith("[")) problems.push("a cut stream that is not a JSON array");
    return problems;
  }
  const value = parse(text, problems);
  if (Array.isArray(value) && isError(value.at(-1)))
    problems.push(...checkStatus((value.at(-1) as { error: Record<string, unknown> }).error, c));
  return problems;
}

function parse(text: string, problems: string[]): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    problems.push(`JSON that does not parse (${(error as Error).message}): ${JSON.stringify(text.slice(0, 120))}`);
    return undefined;
  }
}

function isError(value: unknown): value is { error: Record<string, unknown> } {
  return typeof value === "object" && value !== null && "error" in value && Object.keys(value).length === 1;
}

/** A google.rpc.Status: a code from 1 to 16 that is not a fault of the server (DEADLINE_EXCEEDED only when asked for), a message. */
function checkStatus(status: Record<string, unknown> | undefined, c: Case): string[] {
  if (status === undefined) return [];
  const { code, message, details } = status;
  const problems: string[] = [];
  if (typeof code !== "number" || !Number.isInteger(code) || code < 1 || code > 16)
    problems.push(`a Status with code ${JSON.stringify(code)}`);
  else if (serverFaults.has(code)) problems.push(`a server fault (code ${code}): ${String(message).slice(0, 160)}`);
  else if (code === 4 && !c.deadlineSent) problems.push("DEADLINE_EXCEEDED without a deadline");
  if (typeof message !== "string") problems.push("a Status without a message");
  if (
    details !== undefined &&
    (!Array.isArray(details) || details.some((detail) => typeof (detail as Record<string, unknown>)["@type"] !== "string"))
  ) {
    problems.push(`details without @type: ${JSON.stringify(details).slice(0, 160)}`);
  }
  return problems;
}
