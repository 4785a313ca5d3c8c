#!/usr/bin/env node
// The `tracegate` command: the compiled CLI (dist/, written by `npm run build`, which
// `npm ci` runs). Running from source instead: `node --import tsx src/cli/main.ts`.
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("error: tracegate is not built (no dist/cli/main.js): run `npm run build` in its directory [NOT_BUILT]\n");
  process.exit(1);
}
await import(main.href);
