#!/usr/bin/env node
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenOpenApi } from "./plugin.js";

runNodeJs(protocGenOpenApi);
