/**
 * Ctrl-C and SIGTERM in the middle of a CLI job (src/cli/interrupt.ts): an export to a file
 * leaves no partial file behind, a progress bar gives the terminal its line wrapping back,
 * and the process exits with the status of death by that signal (130 / 143). The jobs are real
 * modules in child processes that wait for ever, so the signal always lands mid-job.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/process.js";

const dir = mkdtempSync(join(tmpdir(), "tracegate-interrupt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An export to `out` that writes one chunk, says "ready", then never finishes. */
const HANGING_EXPORT = (out: string) => `
import { exportToFile } from ${JSON.stringify(join(ROOT, "src/cli/audit-render.ts"))};
await exportToFile(${JSON.stringify(out)}, async (write) => {
  await write("{\\"partial\\": true}\\n");
  process.stdout.write("ready\\n");
  await new Promise(() => setInterval(() => {}, 1000));
  return 1;
});`;

/** A progress bar drawn at once on a terminal, then a job that never finishes. */
const HANGING_PROGRESS = `
import { jobProgress } from ${JSON.stringify(join(ROOT, "src/cli/progress.ts"))};
const progress = jobProgress("export", { total: 100 });
progress.update(10);
setTimeout(() => process.stdout.write("ready\\n"), 300);
setInterval(() => progress.update(11), 50);`;

/** Run `source` as an ES module; resolves with its exit code once `signal` was sent after it said "ready". */
function interruptModule(source: string, signal: NodeJS.Signals): Promise<number | null> {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
    if (out.includes("ready")) child.kill(signal);
  });
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("an interrupted CLI job", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} mid-export removes the partial file and exits ${signal === "SIGINT" ? 130 : 143}`, async () => {
      const out = join(dir, `export-${signal}.jsonl`);
      expect(await interruptModule(HANGING_EXPORT(out), signal)).toBe(signal === "SIGINT" ? 130 : 143);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes(`export-${signal}`))).toEqual([]);
    });
  }

  it("Ctrl-C under a progress bar turns the terminal's line wrapping back on", () => {
    const script = join(dir, "progress.mjs");
    spawnSync("sh", ["-c", `cat > ${script}`], { input: HANGING_PROGRESS });
    // The module runs on a pseudo-terminal (util-linux `script`), which a shell interrupts.
    const command = `cd ${ROOT}; node --import tsx ${script} & P=$!; sleep 3; kill -INT $P; wait $P; echo "status=$?"`;
    const run = spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8", timeout: 60_000, killSignal: "SIGKILL" });
    const screen = run.stdout;
    expect(screen).toContain("\x1b[?7l"); // wrapping off while the bar draws
    expect(screen.lastIndexOf("\x1b[?7h")).toBeGreaterThan(screen.lastIndexOf("\x1b[?7l"));
    expect(screen).toMatch(/status=130/);
  });
});
