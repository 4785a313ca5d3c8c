/**
 * The `tracegate` command itself: `--version` prints the package's version and `--help`
 * lists every command, both on stdout with exit 0 (scripts and container health checks
 * call them).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/process.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

describe("tracegate", () => {
  it("prints its version with --version and -V", async () => {
    for (const flag of ["--version", "-V"]) {
      const run = await runCli([flag]);
      expect(run.code, flag).toBe(0);
      expect(run.stdout, flag).toBe(`${version}\n`);
      expect(run.stderr, flag).toBe("");
    }
  });

  it("lists every command with --help", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    for (const command of ["serve", "migrate", "keys", "checkpoint", "doctor", "import", "prune", "audit", "ship", "forward"]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
    expect(run.stdout).toContain("--version");
  });
});
