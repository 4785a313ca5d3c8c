/**
 * Top self-time entries of a V8 .cpuprofile (node --cpu-prof): `node --import tsx bench/profile-top.ts FILE [N]`.
 * Entries are grouped by function and file (package name for node_modules), as a share of all samples.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const [file, n = "25"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, "utf8")) as { nodes: Node[]; samples: number[] };
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  const s = /\/(src|bench)\/(.*)$/.exec(url);
  return s ? `${s[1]}/${s[2]}` : url.replace(/^node:/, "node:") || "(native)";
};
const counts = new Map<string, number>();
for (const id of profile.samples) {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || "(anonymous)"}  ${where(f.url)}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
const total = profile.samples.length;
const idle = [...counts].filter(([k]) => k.startsWith("(idle)")).reduce((a, [, c]) => a + c, 0);
console.log(`${total} samples, ${((idle / total) * 100).toFixed(1)}% idle; self time as a share of busy samples:`);
for (const [key, c] of [...counts].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, Number(n))) {
  console.log(`${((c / (total - idle)) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
