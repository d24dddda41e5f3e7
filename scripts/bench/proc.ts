import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second, the unit of CPU times in /proc/<pid>/stat (almost always 100). */
export const clockTicksPerSecond: number = (() => {
  const run = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(run.stdout?.trim());
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
})();

/**
 * utime + stime, in ticks, from the text of /proc/<pid>/stat. The command
 * name (field 2) is in parentheses and may hold spaces, so fields are counted
 * from the last ")": utime and stime are fields 14 and 15 of proc(5). Both
 * cover every thread of the process (V8's helpers, libuv's pool).
 */
export function cpuTicksFromStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${stat}`);
  return utime + stime;
}

/** CPU time the process has used so far, user and system, in microseconds. */
export function cpuMicros(pid: number): number {
  return (cpuTicksFromStat(readFileSync(`/proc/${pid}/stat`, "utf8")) * 1e6) / clockTicksPerSecond;
}

/** Busy and total time of each CPU, in ticks. */
export type CoreTimes = ReadonlyMap<number, { readonly busy: number; readonly total: number }>;

/**
 * Per-CPU times from the text of /proc/stat: "cpuN user nice system idle
 * iowait irq softirq steal ...". Busy is everything but idle and iowait
 * (guest time is inside user already).
 */
export function coreTimesFromStat(stat: string): CoreTimes {
  const cores = new Map<number, { busy: number; total: number }>();
  for (const line of stat.split("\n")) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (match[2] ?? "")
      .split(/\s+/)
      .map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    cores.set(Number(match[1]), { busy, total: busy + idle + iowait });
  }
  return cores;
}

export function coreTimes(): CoreTimes {
  return coreTimesFromStat(readFileSync("/proc/stat", "utf8"));
}

/** How busy `cpu` was between two readings, in percent; NaN when unknown. */
export function busyPct(before: CoreTimes, after: CoreTimes, cpu: number): number {
  const from = before.get(cpu);
  const to = after.get(cpu);
  if (from === undefined || to === undefined || to.total === from.total) return Number.NaN;
  return ((to.busy - from.busy) / (to.total - from.total)) * 100;
}

export interface Memory {
  /** Resident set size now. */
  readonly rssMiB: number;
  /** The highest resident set size so far (VmHWM). */
  readonly peakMiB: number;
}

/** VmRSS and VmHWM from the text of /proc/<pid>/status, in MiB. */
export function memoryFromStatus(status: string): Memory {
  const field = (name: string) => {
    const kib = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
    if (kib === undefined) throw new Error(`/proc status has no ${name}`);
    return Number(kib) / 1024;
  };
  return { rssMiB: field("VmRSS"), peakMiB: field("VmHWM") };
}

export function memory(pid: number): Memory {
  return memoryFromStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
}

/** The CPUs this process may run on, from "0-1,4" lists as in Cpus_allowed_list. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(",")) {
    if (part === "") continue;
    const [from, to = from] = part.split("-").map(Number);
    if (from === undefined || to === undefined || !Number.isInteger(from) || !Number.isInteger(to)) continue;
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

export type Pinning =
  | { readonly pinned: true; readonly serverCpu: number; readonly loadCpu: number }
  | { readonly pinned: false; readonly reason: string };

/**
 * Servers on one core and the load generator on another, so neither steals
 * the other's CPU and a server's CPU time is its own work. Needs taskset
 * (util-linux) and two CPUs this process may use.
 */
export function choosePinning(): Pinning {
  if (spawnSync("taskset", ["-V"]).error !== undefined) return { pinned: false, reason: "taskset is not installed" };
  let allowed: number[] = [];
  try {
    allowed = parseCpuList(/^Cpus_allowed_list:\s+(.*)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "");
  } catch {
    return { pinned: false, reason: "/proc/self/status is not readable" };
  }
  const [serverCpu, loadCpu] = allowed;
  if (serverCpu === undefined || loadCpu === undefined) return { pinned: false, reason: `only ${allowed.length} CPU available` };
  return { pinned: true, serverCpu, loadCpu };
}

/** The command prefix that runs a program on `cpu`, or nothing when not pinning. */
export function launcherFor(pinning: Pinning, role: "server" | "load"): string[] {
  if (!pinning.pinned) return [];
  return ["taskset", "-c", String(role === "server" ? pinning.serverCpu : pinning.loadCpu)];
}

/** The parent pid (field 4 of proc(5)) from the text of /proc/<pid>/stat. */
export function parentFromStat(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** `root` and every process descending from it, given each process's parent. */
export function descendants(parents: ReadonlyMap<number, number>, root: number): number[] {
  const tree = [root];
  for (let at = 0; at < tree.length; at++) {
    for (const [pid, parent] of parents) if (parent === tree[at] && !tree.includes(pid)) tree.push(pid);
  }
  return tree;
}

/** `pid` and its descendants now (a WORKERS=n server's primary and workers), from /proc. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), parentFromStat(readFileSync(`/proc/${entry}/stat`, "utf8")));
    } catch {
      // ended meanwhile
    }
  }
  return descendants(parents, pid);
}

/** The sum of a reading over processes, skipping one that ended meanwhile (its share is lost). */
export function sumOver(pids: readonly number[], read: (pid: number) => number): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += read(pid);
    } catch {
      // ended meanwhile
    }
  }
  return sum;
}

/** The command name (field 2 of proc(5), without its parentheses) from the text of /proc/<pid>/stat. */
export function commandFromStat(stat: string): string {
  return stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
}

/**
 * CPU time, in microseconds, of every process named `command` now (for
 * "postgres": the postmaster, its backends and its background processes, on
 * whatever core they run). A process that ended meanwhile is not counted, so
 * read before and after a run while the clients keep their connections.
 */
export function commandCpuMicros(command: string): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (commandFromStat(stat) === command) ticks += cpuTicksFromStat(stat);
    } catch {
      // ended meanwhile
    }
  }
  return (ticks * 1e6) / clockTicksPerSecond;
}

/**
 * Waits until every core has been less than `quietPct` busy over a window
 * of `windowMs` (PostgreSQL's autovacuum and checkpoints after seeding, an
 * earlier server's exit), for at most `timeoutMs`; resolves to the busiest
 * core's share in the last window, so the caller can say the machine was
 * not quiet.
 */
export async function machineQuiet(quietPct = 15, windowMs = 250, timeoutMs = 20_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const before = coreTimes();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = coreTimes();
    const busiest = Math.max(0, ...[...after.keys()].map((cpu) => busyPct(before, after, cpu)).filter((pct) => !Number.isNaN(pct)));
    if (busiest < quietPct || performance.now() > deadline) return busiest;
  }
}
