import { procedures } from "../lib/catalog.js";
import type { Case, Family, Wire } from "./case.js";
import type { Outcome } from "./outcome.js";

const maxShown = 1_500;

/** Bytes as text when they mostly are, else as hex; long ones cut with a note. */
export function showBytes(data: Buffer): string {
  if (data.length === 0) return "(empty)";
  const shown = data.subarray(0, maxShown);
  const printable = [...shown].filter((byte) => (byte >= 0x20 && byte < 0x7f) || byte === 0x0a || byte === 0x0d || byte === 0x09).length;
  const more = data.length > maxShown ? ` … (${data.length - maxShown} more bytes)` : "";
  if (printable / shown.length > 0.85) return `${JSON.stringify(shown.toString("latin1"))}${more}`;
  return `hex ${shown
    .toString("hex")
    .replace(/(.{2})/g, "$1 ")
    .trim()}${more}`;
}

/** The exact request of a case, for a person to read (and to turn into a regression test). */
export function describeCase(c: Case): string {
  const lines = [`case ${c.id}: family ${c.family}, ${c.wire}${c.procedure ? ` ${c.procedure.path}` : ""}`];
  lines.push(c.mutations.length === 0 ? "  a valid request" : `  mutations: ${c.mutations.join("; ")}`);
  const request = c.request;
  if (request.kind === "http") {
    lines.push(
      `  over HTTP/${request.http}: ${request.method} ${request.path.length > 300 ? `${request.path.slice(0, 300)}… (${request.path.length} chars)` : request.path}`,
    );
    for (const [name, value] of request.headers) {
      lines.push(
        `    ${name}: ${value.length > 200 ? `${JSON.stringify(value.slice(0, 200))}… (${value.length} chars)` : JSON.stringify(value)}`,
      );
    }
    lines.push(`    body (${request.body.length} bytes): ${showBytes(request.body)}`);
  } else {
    lines.push(`  raw HTTP/${request.http} bytes on a new connection${request.endAfterWrite ? ", then the client closes its side" : ""}:`);
    for (const [i, chunk] of request.chunks.entries()) lines.push(`    write ${i + 1} (${chunk.length} bytes): ${showBytes(chunk)}`);
  }
  return lines.join("\n");
}

export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case "answer": {
      const lines = [
        `answer: HTTP ${outcome.status} after ${outcome.ms.toFixed(0)} ms${outcome.cutByClient ? " (stream ended by the client)" : ""}`,
      ];
      for (const [name, value] of Object.entries(outcome.headers)) lines.push(`    ${name}: ${JSON.stringify(value)}`);
      lines.push(`    body (${outcome.body.length} bytes): ${showBytes(outcome.body)}`);
      if (outcome.trailers !== undefined)
        for (const [name, value] of Object.entries(outcome.trailers)) lines.push(`    trailer ${name}: ${JSON.stringify(value)}`);
      if (outcome.rstCode !== undefined) lines.push(`    stream closed with code ${outcome.rstCode}`);
      return lines.join("\n");
    }
    case "raw-h1":
      return [
        `raw HTTP/1.1: ${outcome.responses.length} response(s) in ${outcome.ms.toFixed(0)} ms; ${outcome.timedOut ? "TIMED OUT" : outcome.closedByServer ? "closed by the server" : "complete"}`,
        ...outcome.responses.map((r) => `    HTTP ${r.status} ${JSON.stringify(r.headers)} body ${showBytes(r.body)}`),
        ...(outcome.unparsed !== undefined ? [`    unparsed: ${outcome.unparsed}`] : []),
      ].join("\n");
    case "raw-h2":
      return `raw HTTP/2 in ${outcome.ms.toFixed(0)} ms: statuses ${JSON.stringify(outcome.statuses)} (+${outcome.undecodedStatuses} not decoded), resets ${JSON.stringify(outcome.resets.slice(0, 20))}, goaway ${JSON.stringify(outcome.goaway)}, unanswered ${JSON.stringify(outcome.unanswered)}; ${outcome.timedOut ? "TIMED OUT" : outcome.closedByServer ? "closed by the server" : "done"}`;
    case "hang":
      return `no answer within ${outcome.ms.toFixed(0)} ms (${outcome.partial})`;
    case "reset":
      return `stream reset with code ${outcome.code} after ${outcome.ms.toFixed(0)} ms`;
    case "closed":
      return `connection closed after ${outcome.ms.toFixed(0)} ms: ${outcome.error}`;
    case "client-refused":
      return `not sent: the client library refused it (${outcome.error})`;
  }
}

/** The case as JSON, bodies in base64: enough for a regression test to send the same bytes. */
export function caseToJson(c: Case): Record<string, unknown> {
  const request = c.request;
  return {
    id: c.id,
    family: c.family,
    wire: c.wire,
    procedure: c.procedure?.path,
    deadlineSent: c.deadlineSent,
    mutations: c.mutations,
    request:
      request.kind === "http"
        ? { ...request, body: request.body.toString("base64") }
        : { ...request, chunks: request.chunks.map((chunk) => chunk.toString("base64")) },
  };
}

/** The inverse of caseToJson: a saved case (`--replay ID --save FILE`), ready for Worker.send and judge in a regression test. */
export function caseFromJson(json: Record<string, unknown>): Case {
  const request = json.request as Record<string, unknown>;
  const procedure = procedures.find((p) => p.path === json.procedure);
  const common = {
    id: String(json.id),
    family: json.family as Family,
    wire: json.wire as Wire,
    procedure,
    deadlineSent: Boolean(json.deadlineSent),
    mutations: json.mutations as string[],
  };
  if (request.kind === "http") {
    return {
      ...common,
      request: {
        kind: "http",
        http: request.http as "1.1" | "2",
        method: String(request.method),
        path: String(request.path),
        headers: request.headers as Array<[string, string]>,
        body: Buffer.from(String(request.body), "base64"),
      },
    };
  }
  return {
    ...common,
    request: {
      kind: "raw",
      http: request.http as "1.1" | "2",
      chunks: (request.chunks as string[]).map((chunk) => Buffer.from(chunk, "base64")),
      endAfterWrite: Boolean(request.endAfterWrite),
      streamIds: request.streamIds as number[],
      ...(request.head === undefined ? {} : { head: request.head === true }),
    },
  };
}
