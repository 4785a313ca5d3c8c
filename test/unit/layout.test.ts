/**
 * The layout holds (docs/architecture.md#layout): data flows one way — transports (http/,
 * graphql/, cli/) -> access/ and app/ -> stores/ -> chain/ — so no two folders of src/ import
 * each other, even through a third. Read from the import statements of every file in src/
 * (type-only imports count: they couple the folders just the same). Also: a file in src/
 * over 400 lines says at its top why it is one file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const src = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" ? [] : sourceFiles(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

/** The folder of src/ a file belongs to: its first path segment (config, errors and logger are their own). */
function folderOf(file: string): string {
  const [first] = relative(src, file).split(sep);
  return first!.replace(/\.ts$/, "");
}

/** folder -> folders it imports, with one importing file per edge for the failure message. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, "utf8");
    const from = folderOf(file);
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = resolve(dirname(file), m[1]!);
      if (!target.startsWith(src + sep)) continue;
      const to = folderOf(target.replace(/\.js$/, ".ts"));
      if (to === from || to === "generated") continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, relative(root, file));
    }
  }
  return graph;
}

/** Every cycle's folders (strongly connected components of more than one folder). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Folders a folder must never import: the flow runs the other way. */
const FORBIDDEN: Record<string, string[]> = {
  chain: ["access", "app", "cli", "graphql", "http", "stores", "streams", "ship", "config", "logger"],
  access: ["app", "cli", "graphql", "http", "stores", "streams", "ship"],
  app: ["cli", "graphql", "http", "ship"],
  stores: ["app", "cli", "graphql", "http", "streams", "ship"],
  streams: ["app", "cli", "graphql", "http"],
  graphql: ["cli", "http"],
  client: ["access", "app", "cli", "graphql", "http", "stores", "streams", "ship", "config", "logger"],
};

describe("the layout", () => {
  const graph = folderGraph();

  it("has imports between folders to check (the scan reads the source)", () => {
    expect(graph.get("app")?.has("stores")).toBe(true);
    expect(graph.get("http")?.has("app")).toBe(true);
  });

  it("has no cycle between the folders of src/", () => {
    const described = cycles(graph).map((c) =>
      c.map((a) => c.filter((b) => graph.get(a)?.has(b)).map((b) => `${a} -> ${b} (${graph.get(a)!.get(b)})`).join("; ")).join("; "),
    );
    expect(described).toEqual([]);
  });

  it("flows one way: no folder imports one above it", () => {
    const wrong: string[] = [];
    for (const [from, forbidden] of Object.entries(FORBIDDEN)) {
      for (const to of forbidden) {
        const file = graph.get(from)?.get(to);
        if (file) wrong.push(`${from} -> ${to} (${file})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("says at the top of every file over 400 lines why it is one file", () => {
    const unexplained = sourceFiles(src)
      .map((file) => ({ file: relative(root, file), text: readFileSync(file, "utf8") }))
      .filter(({ text }) => text.split("\n").length > 400)
      .filter(({ text }) => !/^\/\*\*[\s\S]*?One file:[\s\S]*?\*\//.test(text))
      .map(({ file }) => file);
    expect(unexplained).toEqual([]);
  });
});
