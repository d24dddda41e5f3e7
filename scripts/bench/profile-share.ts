import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The parts of a V8 CPU profile (`node --cpu-prof`) read here. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string };
    readonly children?: readonly number[];
  }>;
  /** The node each sample was taken in, one per sampling interval. */
  readonly samples: readonly number[];
}

export interface ProfileShare {
  /** Samples in which the process was working (not idle): its code, V8's and Node's own, garbage collection. */
  readonly busySamples: number;
  /** Busy samples taken inside the function, or in anything it called. */
  readonly samplesInside: number;
  /** samplesInside / busySamples. */
  readonly share: number;
}

/**
 * The share of a process's busy CPU spent inside `functionName` (its
 * inclusive time), from a sampled profile. Garbage collection that its
 * allocations cause later is not counted as its own: a profile cannot tell
 * whose garbage a collection is.
 */
export function shareOf(profile: CpuProfile, functionName: string): ProfileShare {
  const parent = new Map<number, number>();
  const name = new Map<number, string>();
  for (const node of profile.nodes) {
    name.set(node.id, node.callFrame.functionName);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const inside = new Map<number, boolean>();
  const isInside = (id: number): boolean => {
    const known = inside.get(id);
    if (known !== undefined) return known;
    const above = parent.get(id);
    const found = name.get(id) === functionName || (above !== undefined && isInside(above));
    inside.set(id, found);
    return found;
  };
  let busySamples = 0;
  let samplesInside = 0;
  for (const id of profile.samples) {
    if (name.get(id) === "(idle)") continue;
    busySamples++;
    if (isInside(id)) samplesInside++;
  }
  return { busySamples, samplesInside, share: busySamples === 0 ? 0 : samplesInside / busySamples };
}

/** The largest profile `--cpu-prof` wrote into `dir`: the server's main thread's (worker threads write their own, smaller ones). */
export function readLargestProfile(dir: string): CpuProfile {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".cpuprofile"))
    .map((file) => join(dir, file));
  const largest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (largest === undefined) throw new Error(`no CPU profile was written in ${dir}`);
  return JSON.parse(readFileSync(largest, "utf8")) as CpuProfile;
}
