/**
 * The whole catalogue, in listing order, as it was at one version of the
 * movies table. The version is a counter that every statement changing the
 * table increments in the same transaction (migration 0005), so it moves
 * exactly when a committed change does, whichever process or replica made
 * it. A listing reads the version first and is answered from memory when
 * the snapshot is of that version.
 *
 * A snapshot is only ever taken from a complete listing whose version was
 * the same before and after it: no change committed in between, so its
 * batches, read one query at a time, add up to one consistent catalogue.
 * Catalogues larger than `limit` movies are never kept.
 */
export class CatalogueCache<T> {
  #snapshot: { readonly version: string; readonly items: readonly T[] } | undefined;

  constructor(private readonly limit: number) {}

  /** The catalogue at `version`, when that is the one kept. */
  at(version: string): readonly T[] | undefined {
    return this.#snapshot?.version === version ? this.#snapshot.items : undefined;
  }

  /** Collects a listing read at `version`; `keep` stores it if the version is still the same. */
  collect(version: string): CatalogueCollector<T> {
    const items: T[] = [];
    let overflowed = false;
    return {
      add: (item) => {
        if (overflowed) return;
        if (items.length === this.limit) {
          overflowed = true;
          items.length = 0;
        } else {
          items.push(item);
        }
      },
      keep: (versionAfter) => {
        // A catalogue grown too large lets go of the smaller one kept before.
        if (overflowed) this.#snapshot = undefined;
        else if (versionAfter === version) this.#snapshot = { version, items };
      },
    };
  }
}

export interface CatalogueCollector<T> {
  add(item: T): void;
  /** Called once the listing is complete, with the version read after its last batch. */
  keep(versionAfter: string): void;
}
