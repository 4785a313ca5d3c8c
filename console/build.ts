/**
 * Bundles the audit console (console/src) into dist/console/: one JavaScript and one CSS
 * file with content hashes in their names (served as immutable), and index.html naming
 * them (served as no-cache). Run by `npm run build:console`, which postinstall runs.
 *
 * The output directory is never empty while a gateway serves it: new files are written
 * first, index.html is swapped in by rename, and only then are stale files removed.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "src");
/** Where consolePlugin() serves from by default. */
export const DEFAULT_CONSOLE_OUTDIR = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "console");

/** Files copied as they are (their names carry no hash, so they are served no-cache). */
const STATIC_FILES = ["favicon.svg"];

/** Build the console into `outdir`; returns the names of the files it holds afterwards. */
export async function buildConsole(outdir = DEFAULT_CONSOLE_OUTDIR): Promise<string[]> {
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(SOURCE, "main.ts"), join(SOURCE, "console.css")],
    outdir,
    entryNames: "[name]-[hash]",
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
    legalComments: "eof",
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
  const named = (ext: string) => {
    const file = outputs.find((name) => name.endsWith(ext) && !name.endsWith(`${ext}.map`));
    if (!file) throw new Error(`esbuild produced no ${ext} file`);
    return file;
  };
  const html = readFileSync(join(SOURCE, "index.html"), "utf8")
    .replaceAll("%MAIN_JS%", named(".js"))
    .replaceAll("%MAIN_CSS%", named(".css"));
  for (const file of STATIC_FILES) copyFileSync(join(SOURCE, file), join(outdir, file));
  const pending = join(outdir, `.index.html.${process.pid}`);
  writeFileSync(pending, html);
  renameSync(pending, join(outdir, "index.html"));
  const keep = new Set([...outputs, ...STATIC_FILES, "index.html"]);
  for (const name of readdirSync(outdir)) if (!keep.has(name)) rmSync(join(outdir, name), { force: true, recursive: true });
  return [...keep].sort();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = await buildConsole();
  process.stdout.write(`console: built ${files.length} files into ${DEFAULT_CONSOLE_OUTDIR}\n`);
}
