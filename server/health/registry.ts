import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/health/v1/health_pb.js";

export { ServingStatus };

/**
 * The serving status of the server ("") and of each service by its full name,
 * as grpc.health.v1.Health reports it and /readyz sums it up.
 *
 * Whatever knows about a dependency drives it with `set`: for example the
 * database layer marks the services that need the database NOT_SERVING while
 * it is unreachable. Once `shutdown` has been called, every status stays
 * NOT_SERVING, so a late "database is back" cannot advertise a server that is
 * going away.
 */
export class HealthRegistry {
  /** The server as a whole, the name the health protocol reserves for it. */
  static readonly server = "";

  private readonly statuses = new Map<string, ServingStatus>([[HealthRegistry.server, ServingStatus.SERVING]]);
  private shuttingDown = false;
  /** Counts changes, so a watcher can tell whether it missed one. */
  private version = 0;
  private readonly waiting = new Set<() => void>();

  /** Adds services as SERVING, leaving any status already set alone. */
  add(services: Iterable<string>): void {
    for (const service of services) {
      if (!this.statuses.has(service)) this.statuses.set(service, this.shuttingDown ? ServingStatus.NOT_SERVING : ServingStatus.SERVING);
    }
    this.changed();
  }

  set(service: string, status: ServingStatus.SERVING | ServingStatus.NOT_SERVING): void {
    if (this.shuttingDown || this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    this.changed();
  }

  /** The status of one service, or undefined for a name the server does not know. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every known service with its status, the server ("") included. */
  entries(): ReadonlyMap<string, ServingStatus> {
    return new Map(this.statuses);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Turns everything NOT_SERVING for good: the first step of a graceful shutdown. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const service of this.statuses.keys()) this.statuses.set(service, ServingStatus.NOT_SERVING);
    this.changed();
  }

  /** Ready means not shutting down and every service SERVING; otherwise says why not. */
  readiness(): { ready: true } | { ready: false; reason: string } {
    if (this.shuttingDown) return { ready: false, reason: "shutting down" };
    const down = [...this.statuses].filter(([, status]) => status !== ServingStatus.SERVING).map(([service]) => service || "server");
    return down.length === 0 ? { ready: true } : { ready: false, reason: `not serving: ${down.join(", ")}` };
  }

  /**
   * The current status of `service`, then each change, until `signal` aborts.
   * An unknown service is SERVICE_UNKNOWN, and may become known later.
   */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    let last: ServingStatus | undefined;
    for (;;) {
      // Taken before reading the status, so a change made while the consumer
      // is busy with the previous status is never missed.
      const version = this.version;
      const status = this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
      if (status !== last) {
        last = status;
        yield status;
      }
      await this.changeSince(version, signal);
      signal.throwIfAborted();
    }
  }

  private changed(): void {
    this.version++;
    for (const wake of [...this.waiting]) wake();
  }

  /** Resolves at the first change after `version`, or when `signal` aborts; leaves nothing behind. */
  private changeSince(version: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (this.version !== version || signal.aborted) return resolve();
      const wake = () => {
        this.waiting.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.waiting.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}

/** Something the server depends on, such as the database, that says when it comes and goes. */
export interface Dependency {
  readonly reachable: boolean;
  /** Calls `listener` on each change; returns a function that stops it. */
  onChange(listener: (reachable: boolean) => void): () => void;
}

/**
 * Keeps `services` SERVING while `dependency` is reachable and NOT_SERVING
 * while it is not (which also makes /readyz answer 503). Returns a function
 * that stops following it.
 */
export function followDependency(registry: HealthRegistry, dependency: Dependency, services: readonly string[]): () => void {
  const apply = (reachable: boolean) => {
    for (const service of services) registry.set(service, reachable ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  };
  apply(dependency.reachable);
  return dependency.onChange(apply);
}
