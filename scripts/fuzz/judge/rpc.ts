import { type DescMessage, fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { procedures } from "../../lib/catalog.js";
import type { Case } from "../case.js";
import type { Answer, Headers } from "../outcome.js";
import { decompress, type Envelope, splitEnvelopes } from "../wire.js";
import { codeFromName, codeName, codeProblems } from "./codes.js";

export interface Judged {
  /** A short label for the statistics: "grpc invalid_argument", "connect 404", … */
  readonly label: string;
  readonly problems: string[];
  /** A known deviation that is not the server's to fix (named in the summary, not a failure). */
  readonly tolerated?: string;
}

const byPath = new Map(procedures.map((p) => [p.path, p]));

export function header(headers: Headers | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The output type of the procedure the request's path names, if it names one exactly. */
function outputOf(c: Case): { schema: DescMessage; unary: boolean } | undefined {
  if (c.request.kind !== "http") return undefined;
  const procedure = byPath.get(c.request.path.split("?")[0] ?? "");
  if (procedure === undefined) return undefined;
  const kind = procedure.method.methodKind;
  return { schema: procedure.method.output, unary: kind === "unary" || kind === "client_streaming" };
}

function decodeMessages(c: Case, envelopes: Envelope[], encoding: string | undefined, json: boolean, problems: string[]): void {
  const output = outputOf(c);
  for (const [i, { flags, data }] of envelopes.entries()) {
    try {
      const bytes = flags & 1 ? decompress(data, encoding ?? "") : data;
      if (output !== undefined) {
        if (json) fromJsonString(output.schema, bytes.toString("utf8"), { ignoreUnknownFields: false });
        else fromBinary(output.schema, bytes);
      }
    } catch (error) {
      problems.push(`response message ${i + 1} does not decode: ${(error as Error).message}`);
    }
  }
}

/** gRPC: 200 with grpc-status in trailers (or trailers-only headers), enveloped messages that decode. */
export function judgeGrpc(c: Case, answer: Answer): Judged {
  const problems: string[] = [];
  if (answer.status !== 200) return judgeNon200(c, answer, "grpc");
  const contentType = header(answer.headers, "content-type") ?? "";
  const source = header(answer.trailers, "grpc-status") !== undefined ? answer.trailers : answer.headers;
  const statusText = header(source, "grpc-status");
  const message = decodeURIComponentSafe(header(source, "grpc-message") ?? "");
  const { envelopes, rest } = splitEnvelopes(answer.body);
  if (rest > 0 && !answer.cutByClient) problems.push(`${rest} bytes after the last whole envelope`);
  decodeMessages(c, envelopes, header(answer.headers, "grpc-encoding"), contentType.includes("+json"), problems);
  if (statusText === undefined) {
    if (!answer.cutByClient) problems.push("no grpc-status in trailers or headers");
    return { label: `grpc ${answer.cutByClient ? "stream cut by client" : "no status"}`, problems };
  }
  const code = Number(statusText);
  problems.push(...codeProblems(c, code, message));
  const output = outputOf(c);
  if (code === 0 && output?.unary === true && envelopes.length !== 1)
    problems.push(`OK with ${envelopes.length} messages for a unary answer`);
  return { label: `grpc ${codeName(code)}`, problems };
}

/** gRPC-Web: like gRPC, the status in a trailer frame (flag 0x80) at the end of the body, or in the headers. */
export function judgeGrpcWeb(c: Case, answer: Answer): Judged {
  const problems: string[] = [];
  if (answer.status !== 200) return judgeNon200(c, answer, "grpc-web");
  const contentType = header(answer.headers, "content-type") ?? "";
  const { envelopes, rest } = splitEnvelopes(answer.body);
  if (rest > 0 && !answer.cutByClient) problems.push(`${rest} bytes after the last whole envelope`);
  const trailerIndex = envelopes.findIndex(({ flags }) => (flags & 0x80) !== 0);
  const data = trailerIndex < 0 ? envelopes : envelopes.slice(0, trailerIndex);
  if (trailerIndex >= 0 && trailerIndex !== envelopes.length - 1) problems.push("envelopes after the trailer frame");
  decodeMessages(c, data, header(answer.headers, "grpc-encoding"), contentType.includes("+json"), problems);
  let status = header(answer.headers, "grpc-status");
  let message = header(answer.headers, "grpc-message") ?? "";
  const trailerFrame = trailerIndex >= 0 ? envelopes[trailerIndex] : undefined;
  if (trailerFrame !== undefined) {
    let text: string;
    try {
      text = (
        trailerFrame.flags & 1 ? decompress(trailerFrame.data, header(answer.headers, "grpc-encoding") ?? "") : trailerFrame.data
      ).toString("latin1");
    } catch (error) {
      problems.push(`trailer frame does not decompress: ${(error as Error).message}`);
      text = "";
    }
    for (const line of text.split("\r\n")) {
      const colon = line.indexOf(":");
      if (line === "") continue;
      if (colon <= 0) {
        problems.push(`trailer frame line ${JSON.stringify(line.slice(0, 60))} is not "name: value"`);
        continue;
      }
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === "grpc-status") status = line.slice(colon + 1).trim();
      if (name === "grpc-message") message = line.slice(colon + 1).trim();
    }
  }
  if (status === undefined) {
    if (!answer.cutByClient) problems.push("no trailer frame and no grpc-status header");
    return { label: `grpc-web ${answer.cutByClient ? "stream cut by client" : "no status"}`, problems };
  }
  const code = Number(status);
  problems.push(...codeProblems(c, code, decodeURIComponentSafe(message)));
  const output = outputOf(c);
  if (code === 0 && output?.unary === true && data.length !== 1) problems.push(`OK with ${data.length} messages for a unary answer`);
  return { label: `grpc-web ${codeName(code)}`, problems };
}

/** Connect streaming: enveloped messages, then an end-stream envelope (flag 0x02) with JSON. */
export function judgeConnectStream(c: Case, answer: Answer): Judged {
  const problems: string[] = [];
  if (answer.status !== 200) return judgeNon200(c, answer, "connect");
  const contentType = header(answer.headers, "content-type") ?? "";
  const { envelopes, rest } = splitEnvelopes(answer.body);
  if (rest > 0 && !answer.cutByClient) problems.push(`${rest} bytes after the last whole envelope`);
  const endIndex = envelopes.findIndex(({ flags }) => (flags & 0x02) !== 0);
  const data = endIndex < 0 ? envelopes : envelopes.slice(0, endIndex);
  if (endIndex >= 0 && endIndex !== envelopes.length - 1) problems.push("envelopes after the end-stream envelope");
  decodeMessages(c, data, header(answer.headers, "connect-content-encoding"), contentType.includes("+json"), problems);
  const end = endIndex >= 0 ? envelopes[endIndex] : undefined;
  if (end === undefined) {
    if (!answer.cutByClient) problems.push("no end-stream envelope");
    return { label: `connect ${answer.cutByClient ? "stream cut by client" : "no end-stream"}`, problems };
  }
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    const bytes = end.flags & 1 ? decompress(end.data, header(answer.headers, "connect-content-encoding") ?? "") : end.data;
    parsed = JSON.parse(bytes.toString("utf8")) as typeof parsed;
  } catch (error) {
    problems.push(`end-stream envelope is not JSON: ${(error as Error).message}`);
    return { label: "connect bad end-stream", problems };
  }
  if (parsed.error === undefined) return { label: "connect ok", problems };
  const name = String(parsed.error.code);
  const code = codeFromName(name);
  if (code === undefined) {
    problems.push(`end-stream error code ${JSON.stringify(name)} is not a Connect code`);
    return { label: "connect bad code", problems };
  }
  problems.push(...codeProblems(c, code, String(parsed.error.message ?? "")));
  return { label: `connect ${codeName(code)}`, problems };
}

/** Connect unary (POST or GET): 200 with one message, or an HTTP status and a JSON error whose code matches it. */
export function judgeConnectUnary(c: Case, answer: Answer): Judged {
  const problems: string[] = [];
  const contentType = header(answer.headers, "content-type") ?? "";
  if (answer.status === 200) {
    const encoding = header(answer.headers, "content-encoding");
    decodeMessages(
      c,
      [{ flags: encoding !== undefined && encoding !== "identity" ? 1 : 0, data: answer.body }],
      encoding,
      contentType.startsWith("application/json"),
      problems,
    );
    return { label: "connect ok", problems };
  }
  if (answer.status === 304) {
    if (c.request.kind !== "http" || c.request.method !== "GET" || !c.request.headers.some(([name]) => name === "if-none-match")) {
      problems.push("304 Not Modified for a request without If-None-Match");
    }
    return { label: "connect 304", problems };
  }
  return judgeNon200(c, answer, "connect");
}

/** An answer that is not a 200: a Connect JSON error (code checked against the HTTP status), or a plain 4xx. */
function judgeNon200(c: Case, answer: Answer, protocol: string): Judged {
  const problems: string[] = [];
  const contentType = header(answer.headers, "content-type") ?? "";
  const grpcStatus = header(answer.trailers, "grpc-status") ?? header(answer.headers, "grpc-status");
  if (contentType.startsWith("application/json") && answer.body.length > 0) {
    let parsed: { code?: unknown; message?: unknown };
    try {
      const encoding = header(answer.headers, "content-encoding");
      const body = encoding === undefined ? answer.body : decompress(answer.body, encoding);
      parsed = JSON.parse(body.toString("utf8")) as typeof parsed;
    } catch (error) {
      problems.push(`HTTP ${answer.status} with a body that is not JSON: ${(error as Error).message}`);
      return { label: `${protocol} ${answer.status} bad body`, problems };
    }
    const code = codeFromName(String(parsed.code));
    if (code === undefined) {
      problems.push(`HTTP ${answer.status} error without a valid code: ${JSON.stringify(parsed).slice(0, 200)}`);
      return { label: `${protocol} ${answer.status} no code`, problems };
    }
    problems.push(...codeProblems(c, code, String(parsed.message ?? "")));
    if (codeToHttpStatus(code) !== answer.status)
      problems.push(`HTTP ${answer.status} for ${codeName(code)} (the Connect protocol says ${codeToHttpStatus(code)})`);
    return { label: `${protocol} ${answer.status} ${codeName(code)}`, problems };
  }
  if (grpcStatus !== undefined)
    problems.push(...codeProblems(c, Number(grpcStatus), decodeURIComponentSafe(header(answer.headers, "grpc-message") ?? "")));
  if (answer.status === 505 && bidiOverHttp1(c)) {
    // 505 HTTP Version Not Supported: the right answer to a bidi stream over HTTP/1.1.
  } else if (answer.status >= 500) problems.push(`HTTP ${answer.status} (a server error) for a client's request`);
  else if (answer.status < 400 && answer.status !== 304)
    problems.push(`HTTP ${answer.status} is neither a success nor an error of the protocol`);
  if (c.mutations.length === 0) problems.push(`a valid ${protocol} call answered HTTP ${answer.status}`);
  return { label: `${protocol} ${answer.status}${grpcStatus !== undefined ? ` ${codeName(Number(grpcStatus))}` : ""}`, problems };
}

export function bidiOverHttp1(c: Case): boolean {
  return c.request.kind === "http" && c.request.http === "1.1" && c.procedure?.method.methodKind === "bidi_streaming";
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
