import type { Case } from "../case.js";
import { errorName } from "../h2-frames.js";
import type { Answer, Outcome, RawH1Outcome, RawH2Outcome } from "../outcome.js";
import { judgeRest } from "./rest.js";
import { bidiOverHttp1, header, type Judged, judgeConnectStream, judgeConnectUnary, judgeGrpc, judgeGrpcWeb } from "./rpc.js";

export type { Judged };

/** The raw HTTP/2 floods (see generate/raw-h2.ts floodTrick). */
const floodMutation = /^\d+ (PINGs|empty DATA frames|CONTINUATION frames|SETTINGS frames|WINDOW_UPDATEs)$/;

/** HTTP/2 error codes that say the server broke, not the client. */
const serverErrorCodes = new Set([2 /* INTERNAL_ERROR */]);

/**
 * Whether an outcome is a valid answer of the case's protocol that a server
 * in good health gives: in time, well-formed, and never a server error for
 * what a client sent.
 */
export function judge(c: Case, outcome: Outcome, deadlineMs: number): Judged {
  switch (outcome.kind) {
    case "hang":
      return { label: "hang", problems: [`no complete answer within ${deadlineMs} ms (${outcome.partial})`] };
    case "client-refused":
      return { label: "not sent (client refused)", problems: [] };
    case "closed":
      return {
        label: "connection closed",
        problems: c.mutations.length === 0 ? [`a valid request got no answer: ${outcome.error}`] : [],
      };
    case "reset":
      return {
        label: `reset ${errorName(outcome.code)}`,
        problems: [
          ...(serverErrorCodes.has(outcome.code) ? [`stream reset with ${errorName(outcome.code)}`] : []),
          ...(c.mutations.length === 0 ? [`a valid request was reset (${errorName(outcome.code)})`] : []),
        ],
      };
    case "raw-h1":
      return judgeRawH1(c, outcome);
    case "raw-h2":
      return judgeRawH2(c, outcome);
    case "answer":
      return judgeAnswer(c, outcome);
  }
}

function judgeAnswer(c: Case, answer: Answer): Judged {
  const contentType = header(answer.headers, "content-type") ?? "";
  const isRpc = c.wire !== "http";
  if (answer.rstCode !== undefined && serverErrorCodes.has(answer.rstCode)) {
    return {
      label: `reset ${errorName(answer.rstCode)}`,
      problems: [`stream reset with ${errorName(answer.rstCode)} after status ${answer.status}`],
    };
  }
  if (c.wire === "rest") return judgeRest(c, answer);
  if (contentType.startsWith("application/grpc-web")) return judgeGrpcWeb(c, answer);
  if (contentType.startsWith("application/grpc")) return judgeGrpc(c, answer);
  if (contentType.startsWith("application/connect+")) return judgeConnectStream(c, answer);
  if (isRpc && (contentType.startsWith("application/json") || contentType.startsWith("application/proto") || answer.status === 304)) {
    return judgeConnectUnary(c, answer);
  }
  // A gRPC answer without a content type (an early trailers-only error) still says its status.
  if (isRpc && (c.wire === "grpc" || c.wire === "grpc-web") && header(answer.headers, "grpc-status") !== undefined) {
    return c.wire === "grpc" ? judgeGrpc(c, answer) : judgeGrpcWeb(c, answer);
  }
  return judgePlain(c, answer);
}

/** Not an RPC answer: the page, a probe, or a plain HTTP error. */
function judgePlain(c: Case, answer: Answer): Judged {
  const problems: string[] = [];
  const label = `${c.wire} ${answer.status}${c.wire === "http" ? "" : " (plain)"}`;
  if (!Number.isInteger(answer.status) || answer.status < 100 || answer.status > 599)
    problems.push(`HTTP status ${answer.status} is not valid`);
  else if (answer.status >= 500 && !(answer.status === 505 && bidiOverHttp1(c))) {
    problems.push(`HTTP ${answer.status} (a server error): ${JSON.stringify(answer.body.subarray(0, 120).toString("utf8"))}`);
  }
  if (c.wire !== "http" && c.mutations.length === 0)
    problems.push(
      `a valid ${c.wire} call answered plain HTTP ${answer.status} (${header(answer.headers, "content-type") ?? "no content type"})`,
    );
  if (c.wire === "http" && c.mutations.length === 0 && c.request.kind === "http") {
    const path = c.request.path;
    if ((path === "/healthz" || path === "/readyz") && answer.status !== 200)
      problems.push(`${path} answered ${answer.status} on a healthy server`);
  }
  return { label, problems };
}

/** Raw HTTP/1.1: in time, parseable, and the final answer judged like any other answer of its protocol. */
function judgeRawH1(c: Case, outcome: RawH1Outcome): Judged {
  const problems: string[] = [];
  if (outcome.timedOut) problems.push(`connection neither answered nor closed in time (${outcome.responses.length} responses so far)`);
  if (outcome.unparsed !== undefined) problems.push(`bytes that are not an HTTP/1.1 response: ${outcome.unparsed}`);
  const final = outcome.responses.find((response) => response.status >= 200);
  if (final === undefined) return { label: outcome.timedOut ? "raw-h1 timeout" : "raw-h1 closed without answer", problems };
  const judged = judgeAnswer(c, { kind: "answer", ...final, trailers: final.trailers, ms: outcome.ms, cutByClient: false });
  const label = judged.label.startsWith("raw-h1") ? judged.label : `raw-h1: ${judged.label}`;
  return { label, problems: [...problems, ...judged.problems] };
}

function judgeRawH2(c: Case, outcome: RawH2Outcome): Judged {
  const problems: string[] = [];
  if (outcome.timedOut) {
    problems.push(
      outcome.unanswered.length > 0
        ? `stream(s) ${outcome.unanswered.join(", ")} got no answer in time, and the connection stayed open`
        : "connection neither answered nor closed in time",
    );
  }
  for (const status of outcome.statuses) if (status >= 500) problems.push(`HTTP ${status} (a server error)`);
  // Node's HTTP/2 layer (not the server's code) ends a connection with GOAWAY INTERNAL_ERROR, its
  // streams reset the same way, when it stops a flood or sees DATA that disagrees with content-length.
  // The connection ends and the server goes on, which is what matters; the code is named in the summary.
  let tolerated: string | undefined;
  const internalGoaway = outcome.goaway !== undefined && serverErrorCodes.has(outcome.goaway.code);
  if (internalGoaway && c.mutations.some((m) => floodMutation.test(m))) {
    tolerated = "GOAWAY INTERNAL_ERROR after a flood of frames (Node's http2 flood protection)";
  } else if (internalGoaway && c.mutations.some((m) => m.startsWith('header "content-length"'))) {
    tolerated = "GOAWAY INTERNAL_ERROR for DATA that disagrees with content-length (Node's http2)";
  } else {
    for (const reset of outcome.resets) {
      if (serverErrorCodes.has(reset.code)) problems.push(`stream ${reset.stream} reset with ${errorName(reset.code)}`);
    }
    if (internalGoaway) problems.push(`GOAWAY ${errorName(outcome.goaway?.code ?? 0)}: ${JSON.stringify(outcome.goaway?.debug)}`);
  }
  const parts: string[] = [];
  if (outcome.statuses.length > 0) parts.push([...new Set(outcome.statuses)].sort().join("/"));
  if (outcome.undecodedStatuses > 0 && outcome.statuses.length === 0) parts.push("answered");
  if (outcome.resets.length > 0) parts.push(`RST ${[...new Set(outcome.resets.map((r) => errorName(r.code)))].join("/")}`);
  if (outcome.goaway !== undefined) parts.push(`GOAWAY ${errorName(outcome.goaway.code)}`);
  if (outcome.pingAnswered && outcome.unanswered.length > 0) parts.push("stream ignored, PING answered");
  if (parts.length === 0) parts.push(outcome.timedOut ? "timeout" : outcome.closedByServer ? "closed" : "no answer");
  return { label: `raw-h2 ${parts.join(" ")}`, problems, tolerated };
}
