/**
 * CPython as the independent oracle of exactness: what `json.dumps(value, sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True)` writes for a value found in a JSON text (the
 * reference's canonical form, its chain hash input). One python3 process per call; every
 * text travels as a JSON string literal so lone surrogates survive the pipe.
 */
import { spawnSync } from "node:child_process";

/** Python's answer: the canonical text, or why json.loads refused the text or the value is not finite. */
export type PythonCanonical = { ok: true; canonical: string } | { ok: false; reason: string };

const SCRIPT = String.raw`
import sys, json, math
def finite(v):
    if isinstance(v, float): return math.isfinite(v)
    if isinstance(v, list): return all(finite(x) for x in v)
    if isinstance(v, dict): return all(finite(x) for x in v.values())
    return True
out = []
for line in sys.stdin.read().split("\n"):
    if not line: continue
    job = json.loads(line)
    try:
        v = json.loads(job["text"])
        for step in job["path"]: v = v[step]
        if not finite(v): out.append({"ok": False, "reason": "not finite"}); continue
        out.append({"ok": True, "canonical": json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)})
    except (ValueError, KeyError, IndexError, TypeError) as e:
        out.append({"ok": False, "reason": type(e).__name__ + ": " + str(e)[:80]})
sys.stdout.write(json.dumps(out))
`;

/** For each job, CPython's canonical dump of the value at `path` inside `text` (path [] = the whole text). */
export function pythonCanonical(jobs: readonly { text: string; path?: readonly (string | number)[] }[]): PythonCanonical[] {
  const input = jobs.map((j) => JSON.stringify({ text: j.text, path: j.path ?? [] })).join("\n") + "\n";
  const res = spawnSync("python3", ["-c", SCRIPT], {
    input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONIOENCODING: "utf-8", PYTHONINTMAXSTRDIGITS: "4300" },
  });
  // python3 is required (also in CI): a missing interpreter must fail, not skip.
  if (res.error) throw new Error(`python3 could not be run: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`python3 exited with ${String(res.status)}: ${res.stderr}`);
  return JSON.parse(res.stdout) as PythonCanonical[];
}
