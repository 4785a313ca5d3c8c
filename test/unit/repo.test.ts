/**
 * The repository stands alone: no tracked file points at design notes kept outside it, and
 * every link into the project's own pages (`docs/<page>.md#<anchor>`, or `<page>.md#<anchor>`
 * between pages) lands on a heading that exists. Reads every file `git ls-files` lists.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");

/** Not tracked, but named here so that it stays out even if someone adds it. */
const SKIPPED = new Set(["docs/.citation-map.md"]);

/**
 * Names of documents that live outside the repository. Built from parts so that this file
 * does not itself contain what it forbids.
 */
const OUTSIDE = [...["REFERENCE", "DESIGN", "TOOLCHAIN", "STYLE"].map((n) => `${n}.md`), `..${"/"}shared`];

interface TextFile {
  path: string;
  text: string;
}

function trackedTextFiles(): TextFile[] {
  const listed = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" });
  const files: TextFile[] = [];
  for (const path of listed.split("\0")) {
    if (path === "" || SKIPPED.has(path)) continue;
    const full = join(root, path);
    if (!existsSync(full)) continue; // deleted in the work tree, not yet committed
    const bytes = readFileSync(full);
    if (bytes.subarray(0, 8000).includes(0)) continue; // binary
    files.push({ path, text: bytes.toString("utf8") });
  }
  return files;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
    seen.set(slug, n + 1);
  }
  return anchors;
}

describe("repository", () => {
  const files = trackedTextFiles();

  it("lists its files through git", () => {
    expect(files.some((f) => f.path === "package.json")).toBe(true);
  });

  it("names no document kept outside the repository", () => {
    const offenders: string[] = [];
    for (const { path, text } of files) {
      text.split("\n").forEach((line, i) => {
        for (const name of OUTSIDE) if (line.includes(name)) offenders.push(`${path}:${i + 1}: ${name}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it("links only to headings that exist in docs/", () => {
    const anchorsOf = new Map<string, Set<string> | null>();
    const anchors = (page: string) => {
      if (!anchorsOf.has(page)) {
        const full = join(root, page);
        anchorsOf.set(page, existsSync(full) ? headingAnchors(readFileSync(full, "utf8")) : null);
      }
      return anchorsOf.get(page);
    };
    const broken: string[] = [];
    let links = 0;
    const check = (path: string, page: string, anchor: string, link: string) => {
      links++;
      if (!anchors(page)?.has(anchor)) broken.push(`${path}: ${link}`);
    };
    for (const { path, text } of files) {
      for (const m of text.matchAll(/docs\/([\w.-]+\.md)#([\w-]+)/g)) check(path, `docs/${m[1]}`, m[2]!, m[0]);
      if (path.startsWith("docs/") && path.endsWith(".md")) {
        // Links between pages are relative to the page's own folder.
        for (const m of text.matchAll(/\]\(([\w./-]+\.md)#([\w-]+)\)/g)) {
          const page = normalize(join(dirname(path), m[1]!));
          if (page.startsWith("docs/")) check(path, page, m[2]!, m[0]);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(links).toBeGreaterThan(0);
  });
});
