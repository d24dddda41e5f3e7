import type { DatabaseSync } from "node:sqlite";
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { openConnection, StatementCache } from "./sqlite-connection.js";
import {
  type Notification,
  toWire,
  type WireError,
  type WriterOptions,
  type WriterReply,
  type WriterRequest,
} from "./sqlite-writer-protocol.js";

/**
 * The thread that writes the embedded database (see sqlite-writer.ts).
 * Transactions run one at a time, in the order they began. Several that
 * follow each other closely share one outer SQLite transaction, each in its
 * own SAVEPOINT (but a lone statement, which SQLite undoes by itself if it
 * fails), so the group costs one COMMIT and one fsync; a member that
 * rolls back only rolls back to its savepoint. No member is told it
 * committed before the group's COMMIT returns.
 *
 * The SQL function notify(channel, payload), SQLite's stand-in for
 * PostgreSQL's pg_notify, keeps a change with the transaction whose
 * statement called it; it goes to the main thread with the COMMIT's
 * acknowledgement, so listeners get it if and only if it committed, in
 * commit order, and a write needs no transaction around it to announce
 * itself.
 */

/** At most this many transactions share one COMMIT. */
const maxGroupSize = 64;
/** A group stops taking new members this long after it began, so its first member does not wait long. */
const maxGroupMs = 10;

const port = parentPort;
if (port === null) throw new Error("sqlite-writer-worker.ts runs as a worker thread");
const options = workerData as WriterOptions;

let database: DatabaseSync;
try {
  database = openConnection(options.file, options);
} catch (error) {
  port.postMessage([{ op: "openFailed", error: toWire(error) }] satisfies WriterReply[]);
  port.close();
  throw error;
}
database.function("notify", { deterministic: false }, (channel, payload) => {
  if (activeNotices === undefined || typeof channel !== "string" || typeof payload !== "string") {
    throw new Error("notify(channel, payload) takes two texts, in a write");
  }
  activeNotices.push({ channel, payload });
  return null;
});
const statements = new StatementCache(database);

/** Transactions waiting for their turn, in the order they began. */
const waiting: number[] = [];
/** Messages that arrived for a transaction before its turn. */
const early = new Map<number, WriterRequest[]>();
/** The transaction whose statements run now. */
let active: number | undefined;
/** Why the active transaction can no longer go on: SQLite rolled the outer transaction back under it. */
let activeLost: WireError | undefined;
/** Whether the active transaction is in a savepoint of its own (all but lone statements, see start()). */
let activeSavepoint = true;
/** What the active transaction's statements sent with notify(). */
let activeNotices: Notification[] | undefined;
/** Released members of the open group, their notices, and when the group began. */
let members: number[] = [];
let memberNotices: Notification[][] = [];
let groupStart = 0;
let closing = false;
/** Replies not yet sent: they go in one message once the thread is about to wait (see flush). */
let outbox: WriterReply[] = [];
/**
 * Whether the outbox holds a reply the main thread waits for before the
 * group commits: a statement's result in a transaction that goes on, a
 * rollback. A lone write's result waits for its COMMIT anyway.
 */
let awaitedNow = false;

port.on("message", (requests: WriterRequest[]) => {
  for (const request of requests) handle(request);
  pump();
  flush();
});
port.postMessage([{ op: "ready" }] satisfies WriterReply[]);

function post(reply: WriterReply, awaited = true): void {
  outbox.push(reply);
  if (awaited) awaitedNow = true;
}

/** Sends the replies gathered so far, before the thread waits: for the main thread, or for a COMMIT's sync. */
function flush(): void {
  if (outbox.length === 0) return;
  const replies = outbox;
  outbox = [];
  awaitedNow = false;
  port?.postMessage(replies);
}

function handle(request: WriterRequest): void {
  if (request.op === "close") {
    closing = true;
    return;
  }
  if (request.op === "begin") {
    waiting.push(request.tx);
    return;
  }
  if (request.op === "write") {
    waiting.push(request.tx);
    early.set(request.tx, [request]);
    return;
  }
  if (request.tx !== active) {
    const list = early.get(request.tx) ?? [];
    list.push(request);
    early.set(request.tx, list);
    return;
  }
  run(request);
}

/** Starts waiting transactions while none is active; commits the group once nothing follows. */
function pump(): void {
  while (active === undefined) {
    if (waiting.length === 0) drain();
    const next = waiting.shift();
    if (next === undefined) break;
    if (members.length > 0 && (members.length >= maxGroupSize || performance.now() - groupStart >= maxGroupMs)) commitGroup();
    start(next);
  }
  if (active === undefined && waiting.length === 0) {
    if (database.isTransaction) commitGroup();
    if (closing) {
      flush();
      database.close();
      port?.close();
    }
  }
}

/** Takes messages already sent without returning to the event loop: a transaction that began meanwhile joins the group. */
function drain(): void {
  if (port === null) return;
  for (let message = receiveMessageOnPort(port); message !== undefined; message = receiveMessageOnPort(port)) {
    for (const request of message.message as WriterRequest[]) handle(request);
  }
}

function start(tx: number): void {
  const messages = early.get(tx);
  early.delete(tx);
  active = tx;
  activeLost = undefined;
  activeNotices = [];
  // A lone statement needs no savepoint: one that fails leaves nothing behind
  // (SQLite undoes a failed statement, or the whole transaction, see query()).
  activeSavepoint = messages?.length !== 1 || messages[0]?.op !== "write";
  try {
    if (!database.isTransaction) {
      database.exec("begin immediate");
      groupStart = performance.now();
    }
    if (activeSavepoint) database.exec(`savepoint t${tx}`);
  } catch (error) {
    activeLost = toWire(error);
    abandonGroup(activeLost);
  }
  for (const message of messages ?? []) {
    if (active !== tx) break;
    run(message);
  }
}

function run(request: WriterRequest): void {
  if (request.op === "query") query(request.id, request.sql, request.params, true);
  else if (request.op === "write") {
    // Committed (released into the group) even if the statement failed, as a transaction around it would be: it wrote nothing.
    query(request.id, request.sql, request.params, false);
    release();
  } else if (request.op === "commit") release();
  else if (request.op === "rollback") rollBack();
}

/** Runs a statement of the active transaction; `awaited` says whether its result is waited for before the commit (see awaitedNow). */
function query(id: number, sql: string, params: Extract<WriterRequest, { op: "query" }>["params"], awaited: boolean): void {
  if (activeLost !== undefined) {
    post({ op: "failed", id, error: activeLost }, awaited);
    return;
  }
  // A statement that fails takes back what it sent with notify(), as SQLite takes back its writes.
  const sent = activeNotices?.length ?? 0;
  try {
    const { statement, reader } = statements.get(sql);
    if (reader) post({ op: "result", id, rows: statement.all(...params), changes: 0, lastInsertRowid: 0 }, awaited);
    else {
      const { changes, lastInsertRowid } = statement.run(...params);
      post({ op: "result", id, rows: undefined, changes, lastInsertRowid }, awaited);
    }
  } catch (error) {
    if (activeNotices !== undefined) activeNotices.length = sent;
    const wire = toWire(error);
    post({ op: "failed", id, error: wire }, awaited);
    // Some failures (a full disk, an I/O error) roll back the whole outer transaction, and with it the group.
    if (!database.isTransaction) {
      activeLost = wire;
      loseGroup(wire);
    }
  }
}

function release(): void {
  const tx = active as number;
  const notices = activeNotices ?? [];
  active = undefined;
  activeNotices = undefined;
  if (activeLost !== undefined) {
    post({ op: "commitFailed", txs: [tx], error: activeLost });
    return;
  }
  try {
    if (activeSavepoint) database.exec(`release t${tx}`);
    members.push(tx);
    memberNotices.push(notices);
  } catch (error) {
    const wire = toWire(error);
    post({ op: "commitFailed", txs: [tx], error: wire });
    // Its writes must not reach the disk with the group's: undo them, or the whole group if that fails too.
    try {
      if (database.isTransaction) database.exec(`rollback to t${tx}; release t${tx}`);
      else loseGroup(wire);
    } catch {
      abandonGroup(wire);
    }
  }
}

function rollBack(): void {
  const tx = active as number;
  active = undefined;
  activeNotices = undefined;
  if (activeLost === undefined && database.isTransaction) {
    try {
      database.exec(`rollback to t${tx}; release t${tx}`);
    } catch (error) {
      // Nothing of this transaction may reach the disk: give up the whole group.
      abandonGroup(toWire(error));
    }
  }
  post({ op: "rolledBack", tx });
}

function commitGroup(): void {
  const txs = members;
  const notices = memberNotices;
  members = [];
  memberNotices = [];
  // What waits for this thread (results, rollbacks) need not wait for the sync
  // too; a group of lone writes sends its results with the acknowledgement,
  // one message (and one wake-up of the main thread) instead of two.
  if (awaitedNow) flush();
  try {
    database.exec("commit");
  } catch (error) {
    if (database.isTransaction) {
      try {
        database.exec("rollback");
      } catch {
        // The connection is unusable; the next BEGIN says so to its caller.
      }
    }
    if (txs.length > 0) post({ op: "commitFailed", txs, error: toWire(error) });
    return;
  }
  if (txs.length > 0) post({ op: "committed", txs, notices });
}

/** Rolls the outer transaction back, if SQLite has not already, and fails its released members. */
function abandonGroup(error: WireError): void {
  if (database.isTransaction) {
    try {
      database.exec("rollback");
    } catch {
      // The connection is unusable; the next BEGIN says so to its caller.
    }
  }
  loseGroup(error);
}

/** The outer transaction is gone: every released member of the group is lost with it. */
function loseGroup(error: WireError): void {
  const txs = members;
  members = [];
  memberNotices = [];
  if (txs.length > 0) post({ op: "commitFailed", txs, error });
}
