// Builds the production tree exactly as the Dockerfile does, without Docker:
// reads the Dockerfile and runs its FROM/WORKDIR/COPY/RUN/ENV steps, each
// stage in a folder of its own under a temporary directory (the build
// context filtered by .dockerignore, as `docker build` sends it). With
// --start it then starts the final stage's CMD from the final stage's folder
// with its ENV, checks /readyz and the version of Node the FROM line names,
// and stops it with the STOPSIGNAL, expecting a clean exit.
//
//   node scripts/build-production.mjs [--start] [--keep]
//
// Everything the Dockerfile does not say (the base image's OS packages,
// USER, HEALTHCHECK's schedule) is reported, not emulated.
import "./check-node.mjs";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = new Set(process.argv.slice(2));
const out = mkdtempSync(join(tmpdir(), "production-build-"));

/** Instructions with their arguments, continuation lines joined, comments dropped. */
function instructions(text) {
  const joined = text.replace(/\\\r?\n/g, " ");
  return joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line);
      return { keyword: keyword.toUpperCase(), rest };
    });
}

/** The build context: the repository minus .dockerignore's entries (names anywhere at the top level, `*.ext` anywhere). */
function contextFilter() {
  const patterns = readFileSync(join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  return (source) => {
    const path = relative(root, source);
    if (path === "") return true;
    const top = path.split("/")[0];
    return !patterns.some((pattern) => (pattern.startsWith("*.") ? path.endsWith(pattern.slice(1)) : top === pattern));
  };
}

/** `["a", "b"]` or `a b`. */
const words = (rest) => (rest.startsWith("[") ? JSON.parse(rest) : rest.split(/\s+/));

function parseEnv(rest, into) {
  for (const match of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) into[match[1]] = match[2].replace(/^"|"$/g, "");
}

const stages = new Map();
let stage;
let final;
const notes = [];
const inContext = contextFilter();
for (const { keyword, rest } of instructions(readFileSync(join(root, "Dockerfile"), "utf8"))) {
  switch (keyword) {
    case "FROM": {
      const [image, , name] = rest.split(/\s+/);
      const dir = join(out, name ?? `stage-${stages.size}`);
      mkdirSync(dir, { recursive: true });
      stage = { name, image, dir, workdir: "/", env: {} };
      stages.set(name, stage);
      final = stage;
      const wanted = /^node:(\d+)/.exec(image)?.[1];
      const have = process.versions.node.split(".")[0];
      if (wanted !== have)
        throw new Error(`the Dockerfile's ${image} is Node ${wanted}; this is Node ${have}: source scripts/use-node.sh ${wanted}`);
      console.log(`\n== FROM ${image}${name ? ` AS ${name}` : ""} → ${dir}`);
      break;
    }
    case "WORKDIR":
      stage.workdir = resolve(stage.workdir, rest);
      mkdirSync(join(stage.dir, stage.workdir), { recursive: true });
      break;
    case "ENV":
      parseEnv(rest, stage.env);
      break;
    case "COPY": {
      const parts = words(rest);
      const from = parts.find((part) => part.startsWith("--from="))?.slice("--from=".length);
      const paths = parts.filter((part) => !part.startsWith("--"));
      const destination = paths.pop();
      const target = join(stage.dir, resolve(stage.workdir, destination));
      for (const source of paths) {
        const origin = from === undefined ? join(root, source) : join(stages.get(from).dir, resolve(stages.get(from).workdir, source));
        if (!existsSync(origin)) throw new Error(`COPY ${source}: not found (${origin})`);
        // `COPY dir/ dest` copies the folder's contents; `COPY file ./` into the folder.
        const into = destination.endsWith("/") && !(from === undefined && source === ".") ? join(target, source.split("/").pop()) : target;
        cpSync(origin, source === "." ? target : into, { recursive: true, filter: from === undefined ? inContext : () => true });
      }
      console.log(`COPY ${rest}`);
      break;
    }
    case "RUN": {
      const command = rest.startsWith("[") ? JSON.parse(rest).join(" ") : rest;
      const cwd = join(stage.dir, stage.workdir);
      console.log(`RUN ${command}   (in ${cwd})`);
      const { status } = spawnSync("sh", ["-c", command], { cwd, stdio: "inherit", env: { ...process.env, ...stage.env } });
      if (status !== 0) throw new Error(`RUN ${command}: exit ${status}`);
      break;
    }
    case "CMD":
      stage.cmd = words(rest);
      break;
    case "STOPSIGNAL":
      stage.stopSignal = rest;
      break;
    case "USER":
    case "EXPOSE":
    case "HEALTHCHECK":
    case "LABEL":
      notes.push(`${keyword} ${rest.slice(0, 60)}${rest.length > 60 ? "…" : ""} (not emulated)`);
      break;
    default:
      throw new Error(`${keyword}: not an instruction this script can run; keep the Dockerfile to what it understands`);
  }
}

const app = join(final.dir, final.workdir);
console.log(`\nproduction tree: ${app}`);
for (const note of notes) console.log(`  ${note}`);
const devOnly = ["typescript", "@biomejs/biome", "vite", "@bufbuild/buf"].filter((name) => existsSync(join(app, "node_modules", name)));
if (devOnly.length > 0) throw new Error(`development dependencies in the production tree: ${devOnly.join(", ")}`);
console.log("  node_modules holds production dependencies only");

if (args.has("--start")) await start();
if (!args.has("--keep")) rmSync(out, { recursive: true, force: true });

/** Runs CMD from the final stage as the container would (its ENV, a free port, the embedded database), checks /readyz, stops it. */
async function start() {
  const port = await new Promise((done) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
  const [command, ...rest] = final.cmd;
  // Loopback instead of the image's 0.0.0.0: this is a shared machine, not a container.
  const overrides = { HOST: "127.0.0.1", PORT: String(port), AUTH_MODE: "off", DATA_DIR: join(out, "data") };
  const env = { PATH: process.env.PATH, ...final.env, ...overrides };
  console.log(
    `\nstarting: ${final.cmd.join(" ")} with ${Object.entries(overrides)
      .map(([name, value]) => `${name}=${value}`)
      .join(" ")}`,
  );
  const child = spawn(command === "node" ? process.execPath : command, rest, { cwd: app, env, stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
  let ready = false;
  for (let waited = 0; waited < 60_000 && child.exitCode === null; waited += 250) {
    ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((done) => setTimeout(done, 250));
  }
  child.kill(final.stopSignal ?? "SIGTERM");
  const { code, signal } = await exited;
  if (!ready) throw new Error("the production tree's server never answered /readyz with 200");
  if (code !== 0) throw new Error(`the server exited with ${code ?? signal} after ${final.stopSignal ?? "SIGTERM"}`);
  console.log(`/readyz answered 200; ${final.stopSignal ?? "SIGTERM"} drained it, exit 0`);
}
