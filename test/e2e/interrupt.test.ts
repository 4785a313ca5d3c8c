/**
 * Ctrl-C and SIGTERM in the middle of a CLI job (src/cli/interrupt.ts): an export to a file
 * leaves no partial file behind, a progress bar gives the terminal its line wrapping back,
 * and the process exits with the status of death by that signal (130 / 143). The jobs are real
 * modules in child processes that wait for ever, so the signal always lands mid-job. A Parquet
 * export leaves none of its files, complete or half written.
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

/**
 * A Parquet export (src/cli/audit-parquet.ts) whose first page holds traces of two days, so a
 * file is complete and the next one half written when the second page never comes; it
 * prints the files on disk at that moment, then "ready".
 */
const HANGING_PARQUET = (out: string) => `
import { readdirSync } from "node:fs";
import { encodeTrace } from ${JSON.stringify(join(ROOT, "src/chain/trace.ts"))};
import { writeParquetExport } from ${JSON.stringify(join(ROOT, "src/cli/audit-parquet.ts"))};
const row = (seq, day) => {
  const { payload, columns } = encodeTrace({ actionId: "i-" + seq, capabilityId: "c", principalId: "p", tokenId: "t",
    invokedAtUs: Date.UTC(2026, 10, day) * 1000, responseMode: "summary", driverId: "d", handleId: null, sensitivity: "NONE",
    eventType: "invoke", reasonCode: null, error: null, args: {}, resultSummary: null });
  return { seq, prevHash: "0".repeat(64), recordHash: "1".repeat(64), payload, ...columns };
};
let pages = 0;
const store = {
  head: async () => ({ nextSeq: 10 }),
  page: async () => {
    if (pages++ === 0) return [row(0, 1), row(1, 2)];
    const files = [];
    const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(d + "/" + e.name) : files.push(e.name); };
    walk(${JSON.stringify(out)});
    process.stdout.write(JSON.stringify(files.map((f) => f.replace(/tracegate-.*-(\\d{4})/, "run-$1")).sort()) + "\\nready\\n");
    return new Promise(() => setInterval(() => {}, 1000));
  },
};
await writeParquetExport(store, {}, { outDir: ${JSON.stringify(out)}, target: { sourceName: "s", region: "us-east-1", accountId: "123456789012" }, pageSize: 2 });`;

/** A progress bar drawn at once on a terminal, then a job that never finishes. */
const HANGING_PROGRESS = `
import { jobProgress } from ${JSON.stringify(join(ROOT, "src/cli/progress.ts"))};
const progress = jobProgress("export", { total: 100 });
progress.update(10);
setTimeout(() => process.stdout.write("ready\\n"), 300);
setInterval(() => progress.update(11), 50);`;

/** Run `source` as an ES module; resolves with its exit code once `signal` was sent after it said "ready" (and `onOutput` with its stdout). */
function interruptModule(source: string, signal: NodeJS.Signals, onOutput: (out: string) => void = () => {}): Promise<number | null> {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
    if (out.includes("ready")) child.kill(signal);
  });
  return new Promise((resolve) => child.once("exit", (code) => (onOutput(out), resolve(code))));
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

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} mid-Parquet-export removes the half-written file and the files already complete`, async () => {
      const out = join(dir, `parquet-${signal}`);
      let said = "";
      expect(await interruptModule(HANGING_PARQUET(out), signal, (o) => (said = o))).toBe(signal === "SIGINT" ? 130 : 143);
      // At the signal, the first day's file was complete and the second day's half written.
      expect(said).toBe('[".run-0002.parquet.partial","run-0001.parquet"]\nready\n');
      const left: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk(join(d, e.name)) : left.push(e.name));
      };
      walk(out);
      expect(left).toEqual([]);
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
