import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { lockDataDir, lockIfAbandoned } from "./data-dir-lock.js";

/**
 * The data folder of a memory:// database: a new folder of its own under
 * the OS's temporary folder, removed when the database closes, or when the
 * process exits without closing it. A folder left behind by a process that
 * could not remove it (SIGKILL, a crash, a power cut) is removed by the
 * next server that opens a memory:// database on this machine: every such
 * folder is locked by its owner (data-dir-lock.ts) while it runs, so one
 * whose lock has no live owner is abandoned.
 *
 * On a folder rather than in PGlite's in-memory file system, the database's
 * files are in the OS's page cache, not in this process's heap: the server
 * holds about 150 MB less (the cluster's files, and the copies made while
 * loading them), and what it writes is never synced to disk (PGlite runs
 * PostgreSQL with fsync off).
 */
export interface ScratchFolder {
  /** The data folder, already locked by this process. */
  readonly dataDir: string;
  /** Removes the folder and releases its lock; call once the database is closed. */
  remove(): Promise<void>;
}

const prefix = "connect-polyglot-memory-";
/** The data folder inside each scratch folder; its lock is `pgdata.lock` beside it. */
const dataName = "pgdata";
/** A folder without a lock this old was left by a process that died while creating it (its lock comes a moment later). */
const unlockedGraceMs = 60_000;

/** Scratch folders this process owns, removed at exit if still there. */
const owned = new Set<string>();
let exitHookInstalled = false;

export async function createScratchFolder(): Promise<ScratchFolder> {
  await removeAbandoned();
  const folder = await mkdtemp(path.join(tmpdir(), prefix));
  const dataDir = path.join(folder, dataName);
  let unlock: () => Promise<void>;
  try {
    await mkdir(dataDir);
    unlock = await lockDataDir(dataDir);
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  own(folder);
  return {
    dataDir,
    async remove() {
      // Still locked while it goes: no other process sweeps it meanwhile.
      await rm(folder, { recursive: true, force: true });
      owned.delete(folder);
      await unlock();
    },
  };
}

function own(folder: string): void {
  owned.add(folder);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // process.exit() without closing (a second signal, a fatal error at
  // start): only synchronous work is possible here.
  process.on("exit", () => {
    for (const each of owned) rmSync(each, { recursive: true, force: true });
  });
}

/** Removes the scratch folders of processes that are gone; leaves live ones, and those it cannot judge, alone. */
async function removeAbandoned(): Promise<void> {
  let names: string[];
  try {
    names = await readdir(tmpdir());
  } catch {
    return;
  }
  for (const name of names.filter((each) => each.startsWith(prefix))) {
    const folder = path.join(tmpdir(), name);
    try {
      await removeIfAbandoned(folder);
    } catch {
      // Another process's folder it cannot read, or one removed meanwhile: not this start's business.
    }
  }
}

async function removeIfAbandoned(folder: string): Promise<void> {
  const dataDir = path.join(folder, dataName);
  const dataDirThere = await stat(dataDir).then(
    () => true,
    () => false,
  );
  const lock = dataDirThere ? await lockIfAbandoned(dataDir) : ({ state: "none" } as const);
  if (lock.state === "taken") {
    try {
      await rm(folder, { recursive: true, force: true });
    } finally {
      await lock.unlock();
    }
  } else if (lock.state === "none" && Date.now() - (await stat(folder)).mtimeMs > unlockedGraceMs) {
    // No lock to judge by: its owner died between creating the folder and
    // locking it (a moment), or is doing so now if the folder is new.
    await rm(folder, { recursive: true, force: true });
  }
}
