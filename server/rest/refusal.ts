import type { ConnectError } from "@connectrpc/connect";

/**
 * A REST request refused before its call, with an HTTP status of its own
 * rather than the one its code maps to (415 for a body that is not JSON,
 * 405 with Allow, 404 for no route): the body is still a google.rpc.Status.
 */
export class Refusal {
  constructor(
    readonly status: number,
    readonly error: ConnectError,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}
