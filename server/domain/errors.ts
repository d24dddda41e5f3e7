/**
 * Errors the domain raises when a request cannot be served. They know nothing
 * of RPC; server/interceptors/errors.ts maps each kind to one status code.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
}

export type DomainErrorKind = "invalid" | "out-of-range" | "not-found" | "already-exists" | "conflict" | "unavailable" | "exhausted";

/** A field of the request breaks a rule; `field` is its name in the contract. */
export class ValidationError extends DomainError {
  readonly kind = "invalid";
  constructor(
    readonly field: string,
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

/** The inputs were valid but the answer cannot be represented. */
export class OutOfRangeError extends DomainError {
  readonly kind = "out-of-range";
}

export class NotFoundError extends DomainError {
  readonly kind = "not-found";
}

export class AlreadyExistsError extends DomainError {
  readonly kind = "already-exists";
}

/** The caller's view of a resource is stale (optimistic concurrency). */
export class ConflictError extends DomainError {
  readonly kind = "conflict";
}

/** A dependency such as the database cannot be reached right now. */
export class UnavailableError extends DomainError {
  readonly kind = "unavailable";
}

/** A per-client limit was reached, e.g. a watcher fell too far behind. */
export class ResourceExhaustedError extends DomainError {
  readonly kind = "exhausted";
}
