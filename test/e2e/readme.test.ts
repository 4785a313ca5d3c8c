/**
 * Every code block of README.md, run as written, in README order, against a real gateway
 * process, from a project outside the repository that installed tracegate by path (as the
 * README tells an emitter user to: `npm install /path/to/tracegate`).
 *
 * The setup is the README's own: the gateway runs in development mode with its working
 * directory in that project, so `./data/admin-key`, `./data/tracegate.db` and
 * `npx tracegate ...` mean there what they mean in the README. The only substitutions:
 *
 * - the port: `:4000` becomes the gateway's ephemeral port;
 * - the key placeholder `tgk_...`: the admin key in the GraphiQL header block, a
 *   `traces:write` key in the Python blocks (the README says they hold only that);
 * - JavaScript blocks read `TRACEGATE_KEY` from the environment: a `traces:write` key for
 *   the emitter, a `traces:read` key for the subscription;
 * - the JavaScript blocks' own dependencies besides tracegate (graphql-ws, ws) are linked
 *   from the repository's node_modules, as `npm install graphql-ws ws` would install them.
 *
 * A block the test cannot run is marked in README.md with a comment on the line before its
 * fence, `<!-- readme-test: not run (<why>) -->`; it is reported as skipped. An unmarked
 * block of a kind this file has no runner for fails the test, so a new example is either
 * run or explicitly marked.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../support/process.js";
import { sleep, waitFor } from "../support/wait.js";

/** One fenced block of README.md. */
interface Block {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Why it is not run, from its marker comment; null = it must run. */
  notRun: string | null;
}

const MARKER = /^<!-- readme-test: not run \((.+)\) -->$/;

/** The fenced blocks of a Markdown text, with the marker of the line before each fence. */
export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed code block`);
    const marker = MARKER.exec(lines[i - 1] ?? "");
    if (!marker && /readme-test/.test(lines[i - 1] ?? "")) throw new Error(`README.md:${i}: malformed readme-test marker`);
    blocks.push({ lang: open[1]!, code: lines.slice(i + 1, end).join("\n") + "\n", line: i + 1, notRun: marker?.[1] ?? null });
    i = end;
  }
  return blocks;
}

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const BLOCKS = readmeBlocks(README);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();
afterAll(() => {
  for (const c of running) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      c.kill("SIGKILL");
    }
  }
});

/** A process in its own process group (so a shell and its curl stop together). */
function start(command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      await exited;
    },
  };
}

/** Run to completion; the limit only catches a hang (several CLI starts on a busy machine). */
async function run(command: string, args: string[], cwd: string, env: Record<string, string>, limitMs = 240_000): Promise<Run> {
  const p = start(command, args, cwd, env);
  const timer = setTimeout(() => void p.stop(), limitMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, ...p.output() };
}

describe("README.md examples, run as written", { timeout: 300_000 }, () => {
  let project: string;
  let port: number;
  let gateway: ReturnType<typeof start>;
  let adminKey: string;
  let writerKey: string;
  let readerKey: string;
  /** The environment of every example: nothing of the test's own, npm kept offline. */
  let env: Record<string, string>;
  /** Headers of the GraphQL blocks: the README's GraphiQL header block, once it ran. */
  let graphqlHeaders: Record<string, string> | undefined;

  const url = () => `http://localhost:${port}/graphql`;
  const substitute = (code: string, key: string) => code.replaceAll(":4000", `:${port}`).replaceAll("tgk_...", key);
  const admin = async <T = any>(query: string, variables?: unknown): Promise<T> => {
    const res = await fetch(url(), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: T; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  };
  let denySerial = 0;
  const recordDeny = (principalId = "readme-probe") =>
    admin<{ recordTraces: { seq: number; actionId: string }[] }>(
      "mutation($t: [TraceInput!]!) { recordTraces(input: $t) { seq actionId } }",
      {
        t: [{
          actionId: `readme-deny-${denySerial++}-${Date.now()}`, capabilityId: "billing.refund", principalId,
          invokedAt: new Date().toISOString(), responseMode: "SUMMARY", eventType: "DENY", reasonCode: "missing_role",
        }],
      },
    ).then((d) => d.recordTraces[0]!);
  const denyCountSince = async (since: string) =>
    (await admin<{ traces: { totalCount: number } }>(`query($s: DateTime) { traces(filter: { eventType: DENY, since: $s }) { totalCount } }`, { s: since }))
      .traces.totalCount;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), "tracegate-readme-"));
    env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? project,
      npm_config_offline: "true",
      npm_config_update_notifier: "false",
    };
    writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "readme-examples", private: true, type: "module" }, null, 2)}\n`);
    const install = await run("npm", ["install", ROOT, "--no-save", "--ignore-scripts", "--no-audit", "--no-fund"], project, env);
    expect(install.code, install.stderr).toBe(0);
    for (const dependency of ["graphql-ws", "ws"]) {
      symlinkSync(realpathSync(join(ROOT, "node_modules", dependency)), join(project, "node_modules", dependency), "dir");
    }
    gateway = start(process.execPath, [join(ROOT, "bin/tracegate.js"), "serve"], project, { ...env, PORT: "0", LOG_LEVEL: "warn" });
    await waitFor(
      () => /serving GraphQL at http:\/\/\S+:\d+\/graphql/.test(gateway.output().stdout) || gateway.child.exitCode !== null,
      () => `the gateway's listen line; stderr:\n${gateway.output().stderr}`,
      180_000,
      50,
    );
    port = Number(/serving GraphQL at http:\/\/\S+:(\d+)\/graphql/.exec(gateway.output().stdout)?.[1]);
    expect(port, gateway.output().stderr).toBeGreaterThan(0);
    adminKey = readFileSync(join(project, "data", "admin-key"), "utf8").trim();
    const createKey = async (scope: string) => {
      const created = await runCli(["keys", "create", "--name", `readme-${scope}`, "--scope", scope, "--json"], {
        TRACEGATE_DATA_DIR: join(project, "data"),
        DATABASE_URL: "",
      });
      expect(created.code, created.stderr).toBe(0);
      return (JSON.parse(created.stdout) as { key: string }).key;
    };
    writerKey = await createKey("traces:write");
    readerKey = await createKey("traces:read");
  });
  afterAll(async () => {
    if (gateway) {
      await gateway.stop();
    }
    rmSync(project, { recursive: true, force: true });
  });

  it("has the blocks this file knows how to run, and a reason for every one it does not", () => {
    expect(BLOCKS.length).toBeGreaterThan(20);
    for (const b of BLOCKS) if (b.notRun !== null) expect(b.notRun.length, `README.md:${b.line}`).toBeGreaterThan(10);
  });

  it("installs tracegate/client by path into another project, importable from plain Node ESM with its types", async () => {
    const manifest = JSON.parse(readFileSync(join(project, "node_modules/tracegate/package.json"), "utf8")) as {
      exports: Record<string, { types?: string; default?: string; import?: string }>;
    };
    const entry = manifest.exports["./client"]!;
    expect(entry.types, "exports['./client'].types").toMatch(/\.d\.ts$/);
    expect(existsSync(join(project, "node_modules/tracegate", entry.types!)), `${entry.types} exists`).toBe(true);
    const probe = await run(
      process.execPath,
      ["--input-type=module", "-e", `import { createTraceEmitter, TraceEmitterError } from "tracegate/client";
        console.log(typeof createTraceEmitter, typeof TraceEmitterError);`],
      project,
      env,
    );
    expect(probe.stderr).toBe("");
    expect(probe.stdout).toBe("function function\n");
  });

  for (const block of BLOCKS) {
    const name = `${block.lang || "plain"} block at README.md:${block.line}`;
    if (block.notRun !== null) {
      it.skip(`${name} (not run: ${block.notRun})`, () => undefined);
      continue;
    }
    it(name, async () => {
      switch (block.lang) {
        case "json":
          return runHeaders(block);
        case "graphql":
          return runGraphQL(block);
        case "sh":
          return /curl -N /.test(block.code) ? runSseShell(block) : runShell(block);
        case "python":
          return runPython(block);
        case "js":
          return /\.subscribe\(/.test(block.code) ? runSubscriptionScript(block) : runScript(block);
        default:
          throw new Error(`README.md:${block.line}: no runner for \`\`\`${block.lang} blocks; run it here or mark it "<!-- readme-test: not run (why) -->"`);
      }
    });
  }

  /** The GraphiQL header block: the headers every GraphQL block is sent with. */
  function runHeaders(block: Block) {
    const headers = JSON.parse(substitute(block.code, adminKey)) as Record<string, string>;
    expect(Object.keys(headers)).toEqual(["Authorization"]);
    graphqlHeaders = headers;
  }

  async function runGraphQL(block: Block) {
    expect(graphqlHeaders, "the header block comes before the first GraphQL block").toBeDefined();
    const res = await fetch(url(), {
      method: "POST",
      headers: { "content-type": "application/json", ...graphqlHeaders },
      body: JSON.stringify({ query: block.code }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(body.data).toBeTruthy();
  }

  async function runShell(block: Block) {
    const code = substitute(block.code, adminKey);
    const since = /--since (\S+)/.exec(code)?.[1];
    const result = await run("bash", ["-e", "-o", "pipefail", "-c", code], project, env);
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.stdout).not.toMatch(/"errors"/);
    // What particular blocks promise.
    if (/deny\.ndjson/.test(code)) {
      const lines = readFileSync(join(project, "deny.ndjson"), "utf8").split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length, "deny.ndjson holds the deny events, only them").toBe(await denyCountSince(`${since ?? "2026-11-01T00:00:00Z"}`.replace(/^(\d{4}-\d\d-\d\d)$/, "$1T00:00:00Z")));
    }
    if (/audit verify/.test(code)) expect(result.stdout).toMatch(/OK: Verified \d+ record\(s\)\.|"ok": ?true/);
    if (/checkpoint verify/.test(code)) expect(result.stdout).toMatch(/^OK checkpoint seq \d+ /m);
    if (/\/metrics/.test(code)) expect(result.stdout).toMatch(/^tracegate_traces_appended_total \d+/m);
  }

  /** A streaming curl: runs until stopped; a trace recorded meanwhile must come out. */
  async function runSseShell(block: Block) {
    const principal = /principalId: \\"([^"\\]+)\\"/.exec(block.code)?.[1] ?? "readme-probe";
    const p = start("bash", ["-e", "-o", "pipefail", "-c", substitute(block.code, adminKey)], project, env);
    try {
      let recorded: { actionId: string } | undefined;
      for (let i = 0; i < 120 && !(recorded && p.output().stdout.includes(recorded.actionId)); i++) {
        expect(p.child.exitCode, p.output().stderr).toBeNull();
        recorded = await recordDeny(principal);
        await sleep(1_000);
      }
      expect(p.output().stdout).toContain(recorded!.actionId);
      expect(p.output().stdout).not.toMatch(/"errors"/);
    } finally {
      await p.stop();
    }
  }

  async function runPython(block: Block) {
    const result = await run("python3", ["-c", substitute(block.code, writerKey)], project, env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^\{'data': /);
    expect(result.stdout).not.toMatch(/errors/);
  }

  function writeScript(block: Block): string {
    const dir = join(project, "examples");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `readme-${block.line}.mjs`);
    writeFileSync(file, substitute(block.code, "tgk_..."));
    return file;
  }

  /** The emitter: runs to its end, reports nothing on stderr, and its trace is stored. */
  async function runScript(block: Block) {
    const count = async () => (await admin<{ traces: { totalCount: number } }>("{ traces { totalCount } }")).traces.totalCount;
    const before = await count();
    const result = await run(process.execPath, [writeScript(block)], project, { ...env, TRACEGATE_KEY: writerKey });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(await count()).toBe(before + 1);
  }

  /** The graphql-ws subscription: replays the stored denials, then hears a new one live. */
  async function runSubscriptionScript(block: Block) {
    const p = start(process.execPath, [writeScript(block)], project, { ...env, TRACEGATE_KEY: readerKey });
    try {
      const stored = await denyCountSince("1970-01-01T00:00:00Z");
      await waitFor(() => p.output().stdout.split("\n").filter(Boolean).length >= stored || p.child.exitCode !== null, () => `${stored} replayed denials; stderr: ${p.output().stderr}`, 120_000);
      const live = await recordDeny();
      await waitFor(() => p.output().stdout.includes(`"seq":${live.seq},`) || p.child.exitCode !== null, () => `seq ${live.seq}; stdout: ${p.output().stdout}; stderr: ${p.output().stderr}`, 120_000);
      expect(p.child.exitCode).toBeNull();
      expect(p.output().stderr).toBe("");
      const events = p.output().stdout.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; reasonCode: string });
      expect(events.every((e) => typeof e.seq === "number" && typeof e.reasonCode === "string")).toBe(true);
    } finally {
      await p.stop();
    }
  }
});
