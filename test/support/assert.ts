import assert from "node:assert/strict";
import { ConnectError } from "@connectrpc/connect";

/** Awaits a call that must fail and returns its ConnectError. */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => assert.fail("expected the call to fail"),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${String(error)}`);
  return error;
}
