/** The value `map` holds under `key`, made and kept by `make` the first time. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/**
 * The inner map `map` holds under `key`, made empty the first time: one
 * level of a lookup by several keys that runs on every call, so it takes no
 * `make` closure (which would be allocated per call).
 */
export function innerMap<K, V extends Map<unknown, unknown>>(map: Map<K, V>, key: K): V {
  let inner = map.get(key);
  if (inner === undefined) {
    inner = new Map() as V;
    map.set(key, inner);
  }
  return inner;
}
