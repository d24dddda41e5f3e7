/** `npm run docs:config`: rewrites docs/configuration.md from the setting declarations. */

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configurationPage } from "./lib/config-docs.js";

const page = fileURLToPath(new URL("../../docs/configuration.md", import.meta.url));
writeFileSync(page, configurationPage());
process.stdout.write(`wrote ${page}\n`);
