/**
 * CPython as the independent oracle of exactness: what `json.dumps(value, sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True)` writes for a value found in a JSON text (the
 * reference's canonical form, its chain hash input). One python3 process per test file,
 * started on first use, answers one line of jobs with one line of answers (a process per
 * call cost a property test ~0.3 s a run); every text travels as a JSON string literal so
 * lone surrogates survive the pipe.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** Python's answer: the canonical text, or why json.loads refused the text or the value is not finite. */
export type PythonCanonical = { ok: true; canonical: string } | { ok: false; reason: string };

const SCRIPT = String.raw`
import sys, json, math
def finite(v):
    if isinstance(v, float): return math.isfinite(v)
    if isinstance(v, list): return all(finite(x) for x in v)
    if isinstance(v, dict): return all(finite(x) for x in v.values())
    return True
def answer(job):
    try:
        v = json.loads(job["text"])
        for step in job["path"]: v = v[step]
        if not finite(v): return {"ok": False, "reason": "not finite"}
        return {"ok": True, "canonical": json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)}
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return {"ok": False, "reason": type(e).__name__ + ": " + str(e)[:80]}
for line in sys.stdin:
    sys.stdout.write(json.dumps([answer(job) for job in json.loads(line)]) + "\n")
    sys.stdout.flush()
`;

interface Oracle {
  child: ChildProcessWithoutNullStreams;
  waiting: { resolve: (answers: PythonCanonical[]) => void; reject: (e: Error) => void }[];
}
let oracle: Oracle | undefined;

function startOracle(): Oracle {
  const child = spawn("python3", ["-c", SCRIPT], { env: { ...process.env, PYTHONIOENCODING: "utf-8", PYTHONINTMAXSTRDIGITS: "4300" } });
  const started: Oracle = { child, waiting: [] };
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  createInterface({ input: child.stdout }).on("line", (line) => started.waiting.shift()?.resolve(JSON.parse(line) as PythonCanonical[]));
  // python3 is required (also in CI): a missing or failing interpreter must fail, not skip.
  const fail = (why: string) => {
    if (oracle === started) oracle = undefined;
    for (const w of started.waiting.splice(0)) w.reject(new Error(`python3 ${why}: ${stderr}`));
  };
  child.on("error", (e) => fail(`could not be run (${e.message})`));
  child.on("exit", (code) => fail(`exited with ${String(code)}`));
  // Never keeps a test process alive on its own.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) stream.unref?.();
  return started;
}

/** For each job, CPython's canonical dump of the value at `path` inside `text` (path [] = the whole text). */
export function pythonCanonical(jobs: readonly { text: string; path?: readonly (string | number)[] }[]): Promise<PythonCanonical[]> {
  const o = (oracle ??= startOracle());
  return new Promise((resolve, reject) => {
    o.waiting.push({ resolve, reject });
    o.child.stdin.write(`${JSON.stringify(jobs.map((j) => ({ text: j.text, path: j.path ?? [] })))}\n`);
  });
}
