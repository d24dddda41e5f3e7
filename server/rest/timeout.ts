import { Code, ConnectError } from "@connectrpc/connect";
import { preview } from "../domain/text.js";

const syntax = /^(\d{1,10})(ms|s|m)?$/;
const unitMs = { ms: 1, s: 1_000, m: 60_000 } as const;

/**
 * A REST call's deadline, from its `timeout` header: a whole number of
 * milliseconds, or with a unit (`2500ms`, `3s`, `1m`); undefined without the
 * header (no deadline, as for the other protocols). Over MAX_TIMEOUT_MS, or
 * not in that form, it is INVALID_ARGUMENT, as connect-es refuses a Connect
 * or gRPC timeout it cannot honour.
 */
export function parseTimeout(header: string | string[] | undefined, maxTimeoutMs: number): number | undefined {
  if (header === undefined) return undefined;
  const found = typeof header === "string" ? syntax.exec(header.trim()) : null;
  if (found === null) {
    throw new ConnectError(
      `the timeout header must be a whole number of milliseconds, or one with a unit (2500ms, 3s, 1m), got "${preview(String(header))}"`,
      Code.InvalidArgument,
    );
  }
  const ms = Number(found[1]) * unitMs[(found[2] ?? "ms") as keyof typeof unitMs];
  if (ms > maxTimeoutMs) {
    throw new ConnectError(
      `the timeout header asks for ${ms} ms, more than the ${maxTimeoutMs} ms this server allows (MAX_TIMEOUT_MS)`,
      Code.InvalidArgument,
    );
  }
  return ms;
}
