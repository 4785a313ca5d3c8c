/**
 * Compiles the gateway and CLI (src/) to JavaScript in dist/, one file per source file, so
 * `npm start`, `bin/tracegate.js` and the worker threads run without a TypeScript loader
 * (startup is a plain `import` of the commands it needs). Run by `npm run build`, which
 * postinstall and the test suite's global setup run; the console (console/build.ts) builds
 * into dist/console/ beside it and is left alone here.
 *
 * esbuild only transpiles (no bundling, no type check: `npm run typecheck` does that), so
 * relative paths resolved from `import.meta.url` (package.json, prisma/, dist/console/) keep
 * the depth they have in src/. Compiled files no source produces any more are removed.
 *
 * The emitter (src/client/, package.json "exports" ./client) also gets type declarations,
 * from tsc (`--declarations`, which `npm run build` passes), so a TypeScript project that
 * installs tracegate imports `tracegate/client` typed.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(ROOT, "src");
/** Where the compiled modules go; bin/tracegate.js and `npm start` run dist/cli/main.js. */
export const SERVER_OUTDIR = join(ROOT, "dist");
/** Subdirectories of dist/ that other builds own. */
const OTHER_OUTPUTS = new Set(["console"]);

/** Every file under `dir`, as absolute paths. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Compile src/**\/*.ts into `outdir`; returns the number of modules written. */
export async function buildServer(outdir = SERVER_OUTDIR): Promise<number> {
  const sources = filesUnder(SOURCE).filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));
  const result = await build({
    entryPoints: sources,
    outdir,
    outbase: SOURCE,
    bundle: false,
    format: "esm",
    platform: "node",
    target: ["node20"],
    metafile: true,
    logLevel: "warning",
  });
  const written = new Set(Object.keys(result.metafile.outputs).map((file) => join(ROOT, file)));
  for (const file of filesUnder(outdir)) {
    const top = relative(outdir, file).split(/[\\/]/)[0]!;
    if (!OTHER_OUTPUTS.has(top) && !written.has(file) && !file.endsWith(".d.ts")) rmSync(file);
  }
  return written.size;
}

/** Write dist/client/*.d.ts for the emitter with tsc (src/client/tsconfig.json). */
export function buildClientDeclarations(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(SOURCE, "client", "tsconfig.json")], { stdio: "inherit" });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const n = await buildServer();
  if (process.argv.includes("--declarations")) buildClientDeclarations();
  process.stdout.write(`server: compiled ${n} modules into ${SERVER_OUTDIR} in ${Math.round(performance.now() - started)} ms\n`);
}
