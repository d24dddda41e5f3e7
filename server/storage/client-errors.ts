import type pg from "pg";

/**
 * Gives every connection of `pool` an 'error' listener for its whole life.
 *
 * A node-postgres client emits 'error' when its connection breaks, and an
 * 'error' nobody listens to is thrown, ending the process. The pool listens
 * only while a client is idle: one that is checked out (Kysely holds one for
 * each query and for a whole transaction, migrations included) has no
 * listener until it is released, so a cut in the middle of a query used to
 * kill the server. The query in flight fails by itself with the same error,
 * and that is where the caller learns of it (UNAVAILABLE); the listener only
 * reports the break.
 */
export function handleClientErrors(pool: pg.Pool, report: (error: Error) => void): void {
  // 'connect' comes for each new client as soon as it is connected, before
  // anyone can use it; while it connects, errors go to the connect call.
  pool.on("connect", (client) => client.on("error", report));
  // The pool re-emits an idle client's error here; the client's own listener
  // has reported it already, but without a listener here it would be thrown.
  pool.on("error", () => {});
}
