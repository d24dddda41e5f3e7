import { Code } from "@connectrpc/connect";
import { codeFromString, codeToString } from "@connectrpc/connect/protocol-connect";
import type { Case } from "../case.js";

/** Codes that say the server failed, never the client: a client's bad request must not get them. */
const serverFaults = new Set([Code.Unknown, Code.Internal, Code.DataLoss, Code.Unavailable]);

/**
 * gRPC's compression spec prescribes INTERNAL for a message flagged as
 * compressed when the request names no compression; the server follows it,
 * in words that blame the request.
 */
const prescribedInternal = /^a request message is flagged as compressed, but the request names no compression/;

export function codeName(code: number): string {
  return code === 0 ? "ok" : Code[code] === undefined ? `code ${code}` : codeToString(code as Code);
}

export function codeFromName(name: string): Code | undefined {
  return codeFromString(name);
}

/** Problems with an RPC status code the server answered (0 = OK), given what the client sent. */
export function codeProblems(c: Case, code: number, message: string): string[] {
  if (!Number.isInteger(code) || code < 0 || code > 16) return [`status code ${code} is not a gRPC/Connect code`];
  if (serverFaults.has(code) && !(code === Code.Internal && prescribedInternal.test(message))) {
    return [`${codeName(code)} (a server fault) answered: ${JSON.stringify(message.slice(0, 200))}`];
  }
  if (code === Code.DeadlineExceeded && !c.deadlineSent)
    return [`deadline_exceeded without a deadline from the client: ${JSON.stringify(message.slice(0, 200))}`];
  if (c.mutations.length === 0 && code === Code.Unimplemented)
    return [`unimplemented for a valid call: ${JSON.stringify(message.slice(0, 200))}`];
  return [];
}
