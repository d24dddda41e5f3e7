import type { Case } from "./case.js";
import type { Limits, Outcome } from "./outcome.js";
import { H1Connection } from "./send/h1.js";
import { H2Connection } from "./send/h2.js";
import { sendRawH1 } from "./send/raw-h1.js";
import { sendRawH2 } from "./send/raw-h2.js";

/** One client of the fuzzer: an HTTP/2 connection and an HTTP/1.1 keep-alive connection, plus raw connections per case. */
export class Worker {
  private readonly h2: H2Connection;
  private readonly h1: H1Connection;

  constructor(private readonly port: number) {
    this.h2 = new H2Connection(`http://127.0.0.1:${port}`);
    this.h1 = new H1Connection("127.0.0.1", port);
  }

  send(c: Case, limits: Limits): Promise<Outcome> {
    const request = c.request;
    if (request.kind === "raw") return request.http === "2" ? sendRawH2(this.port, request, limits) : sendRawH1(this.port, request, limits);
    const openEnded = c.procedure?.openEnded ?? false;
    return request.http === "2" ? this.h2.send(request, limits, openEnded) : this.h1.send(request, limits, openEnded);
  }

  close(): void {
    this.h2.close();
    this.h1.close();
  }
}

/** Lets workers through unless closed; closing nests (each close needs its open). */
export class Gate {
  private closedCount = 0;
  private waiters: Array<() => void> = [];

  close(): void {
    this.closedCount++;
  }

  open(): void {
    this.closedCount = Math.max(0, this.closedCount - 1);
    if (this.closedCount === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  pass(): Promise<void> {
    return this.closedCount === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** The cases being sent right now, with a way to wait until there are none. */
export class InFlight {
  readonly cases = new Set<Case>();
  private waiters: Array<() => void> = [];

  add(c: Case): void {
    this.cases.add(c);
  }

  delete(c: Case): void {
    this.cases.delete(c);
    if (this.cases.size === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  drained(): Promise<void> {
    return this.cases.size === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
