// Builds only what changed since the last build, so a second `npm start` on an
// unchanged tree serves within seconds, and never removes dist/ under a
// running server. Steps: generate code from the protos, compile the server,
// tests and scripts (tsc -b is incremental), build the page with Vite.
import "./check-node.mjs";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);

/** Runs a tool from node_modules/.bin (or a path under the root); its own output says what went wrong, so a failure just ends the build. */
function run(command, ...args) {
  const { status, error } = spawnSync(command.includes("/") ? join(root, command) : bin(command), args, { cwd: root, stdio: "inherit" });
  if (error) throw error;
  if (status !== 0) process.exit(status ?? 1);
}

/** Every file under the given paths (files or folders), skipping none. */
function files(...paths) {
  return paths.flatMap((path) => {
    const full = join(root, path);
    if (!existsSync(full)) return [];
    if (!statSync(full).isDirectory()) return [full];
    return readdirSync(full, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  });
}

/** True when `output` is missing or older than any input. */
function stale(output, inputs) {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return inputs.some((input) => statSync(input).mtimeMs > built);
}

// The lockfile is an input everywhere: a new generator, compiler or bundler
// version must rebuild.
// buf generate runs our own OpenAPI plugin (tools/protoc-gen-openapi) from its
// compiled form, so it is compiled first, on its own: the main compilation
// needs the generated code.
const openApiPlugin = "tools/protoc-gen-openapi";
if (stale(join(root, "dist", openApiPlugin, "main.js"), files(openApiPlugin, "tsconfig.json", "package-lock.json"))) {
  run("tsc", "-p", openApiPlugin);
}
const generatedStamp = join(root, "gen", ".generated");
if (stale(generatedStamp, files("proto", "third_party", "buf.yaml", "buf.gen.yaml", "package-lock.json", openApiPlugin))) {
  run("buf", "generate");
  // The document's types as openapi-typescript writes them, for the client
  // test (openapi-fetch) that the compilation below type-checks. The tool
  // needs TypeScript 5's API, so it lives in a workspace of its own.
  run(
    join("tools", "openapi-typescript", "node_modules", ".bin", "openapi-typescript"),
    "gen/openapi/openapi.json",
    "--output",
    "gen/openapi/schema.d.ts",
    "--silent",
  );
  writeFileSync(generatedStamp, "");
}

// A source removed since the last build leaves its compiled file behind; drop
// it so no old module (or old test file) is picked up.
for (const output of files("dist/server", "dist/scripts", "dist/test", "dist/gen")) {
  const source = relative(join(root, "dist"), output).replace(/\.js(\.map)?$/, ".ts");
  if (source.endsWith(".ts") && !existsSync(join(root, source))) rmSync(output);
}
run("tsc", "--build");

if (stale(join(root, "dist", "web", "index.html"), files("web", "gen", "package-lock.json"))) {
  run("tsc", "-p", "web");
  run("tsc", "-p", "web/tsconfig.node.json");
  run("vite", "build", "--config", "web/vite.config.ts", "--logLevel", "warn");
}

// The server as one bundle that main.js loads (server/main.ts): Node then
// reads a few files instead of resolving and linking some nine hundred
// modules, which was most of the start-up's time. Chunks for what loads on
// demand (tracing, PostgreSQL, SQLite) sit beside it, and so does the SQLite
// writer thread's entry: the folder is as deep as server/'s own folders, so
// the paths the code makes from import.meta.url (the page, the writer
// thread) point where they do in the module tree. Node's own modules stay
// imports. The tsc output stays as it is for the tests.
const bundleDir = join(root, "dist", "server", "bundle");
const bundleInputs = files("dist/server", "dist/gen", "package-lock.json").filter((file) => !file.startsWith(`${bundleDir}/`));
if (stale(join(bundleDir, "run.js"), bundleInputs)) {
  const { build } = await import("rolldown");
  rmSync(bundleDir, { recursive: true, force: true });
  await build({
    input: {
      run: join(root, "dist", "server", "run.js"),
      "sqlite-writer-worker": join(root, "dist", "server", "storage", "sqlite-writer-worker.js"),
    },
    platform: "node",
    external: [/^node:/],
    logLevel: "warn",
    output: {
      dir: bundleDir,
      format: "esm",
      sourcemap: true,
      chunkFileNames: "[name]-[hash].js",
      // One non-ASCII character makes V8 keep a file's whole source in two
      // bytes a character; and JSDoc is for readers of the tree, not for the
      // heap: twice the memory for the sources otherwise. Licences stay.
      charset: "ascii",
      comments: { legal: true, annotation: false, jsdoc: false },
    },
  });
} else {
  // Current: say so to main.js, which serves from the modules when tsc ran after the bundle was made.
  const now = new Date();
  utimesSync(join(bundleDir, "run.js"), now, now);
}
