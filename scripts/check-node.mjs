// Refuses an unsupported Node.js with one line instead of a stack trace from
// deep inside a dependency. Plain JavaScript, so any Node can run it.
import { readFileSync } from "node:fs";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const [needMajor, needMinor] = engines.node
  .replace(/^>=\s*/, "")
  .split(".")
  .map(Number);
const [major, minor] = process.versions.node.split(".").map(Number);

if (major < needMajor || (major === needMajor && minor < (needMinor ?? 0))) {
  console.error(
    `Node.js ${process.version} is not supported: this project needs Node.js ${engines.node} (24 LTS recommended). ` +
      'Run "source scripts/use-node.sh" to put one on PATH.',
  );
  process.exit(1);
}
