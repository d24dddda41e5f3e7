/**
 * Whether the database answers right now, for health checks and readiness
 * probes: read `reachable`, or subscribe to its changes.
 */
export interface DatabaseHealth {
  readonly reachable: boolean;
  /** Calls `listener` each time `reachable` changes; the returned function unsubscribes. */
  onChange(listener: (reachable: boolean) => void): () => void;
}

export class HealthState implements DatabaseHealth {
  private readonly listeners = new Set<(reachable: boolean) => void>();

  constructor(private current: boolean) {}

  get reachable(): boolean {
    return this.current;
  }

  set(reachable: boolean): void {
    if (reachable === this.current) return;
    this.current = reachable;
    for (const listener of this.listeners) listener(reachable);
  }

  onChange(listener: (reachable: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
