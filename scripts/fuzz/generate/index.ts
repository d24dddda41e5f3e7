import type { Case, Family } from "../case.js";
import { Rng } from "../rng.js";
import { httpCase } from "./http.js";
import { rawH1Case } from "./raw-h1.js";
import { rawH2Case } from "./raw-h2.js";
import { restCase } from "./rest.js";
import { rpcCase } from "./rpc.js";

/** How often each family comes up. Huge messages are rare: each costs the server megabytes of work. */
export const familyWeights: ReadonlyArray<readonly [Family, number]> = [
  ["rpc", 16],
  ["message", 20],
  ["huge", 1],
  ["envelope", 10],
  ["headers", 16],
  ["get", 8],
  ["http", 6],
  ["rest", 12],
  ["authority", 5],
  ["raw-h1", 11],
  ["raw-h2", 11],
];

/** "SEED:INDEX" */
export function caseId(seed: number, index: number): string {
  return `${seed}:${index}`;
}

export function parseCaseId(id: string): { seed: number; index: number } {
  const match = /^(\d+):(\d+)$/.exec(id.trim());
  if (match === null) throw new Error(`a case id is SEED:INDEX, e.g. 42:1337; got ${JSON.stringify(id)}`);
  return { seed: Number(match[1]), index: Number(match[2]) };
}

/** A bad Host or :authority, over each transport. */
function authorityCase(rng: Rng, id: string): Case {
  return rng.weighted<(rng: Rng, id: string, authority: boolean) => Case>([
    [(r, i) => rpcCase(r, i, "authority"), 3],
    [httpCase, 1],
    [rawH1Case, 2],
    [rawH2Case, 2],
  ])(rng, id, true);
}

/** The family of case number `index`: the first draw of its generator, so filters never change a case. */
export function familyOf(seed: number, index: number): Family {
  return new Rng(seed, index).weighted(familyWeights);
}

/** Case number `index` of the run with `seed`, built from those two numbers alone. */
export function generateCase(seed: number, index: number): Case {
  const rng = new Rng(seed, index);
  const family = rng.weighted(familyWeights);
  const id = caseId(seed, index);
  switch (family) {
    case "http":
      return httpCase(rng, id);
    case "rest":
      return restCase(rng, id);
    case "authority":
      return authorityCase(rng, id);
    case "raw-h1":
      return rawH1Case(rng, id);
    case "raw-h2":
      return rawH2Case(rng, id);
    default:
      return rpcCase(rng, id, family);
  }
}
