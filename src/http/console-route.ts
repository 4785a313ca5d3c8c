/**
 * The audit console's static files at /console (index.html at /console and /console/),
 * from the directory `npm run build:console` writes (dist/console/). Public like /healthz:
 * the page itself holds no data, and every API call it makes sends the user's key. Answered
 * in onRequest, before the key guard and the GraphQL pipeline see the request.
 *
 * The request path is attacker-controlled: only flat file names of known types are served,
 * so no path can leave the directory.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "graphql-yoga";

/** Where the console is served. */
export const CONSOLE_PATH = "/console";

/** dist/console/ of this checkout, where `npm run build:console` writes. */
const DEFAULT_DIR = fileURLToPath(new URL("../../dist/console/", import.meta.url));

/** Content types of the files the build writes; any other file is not served. */
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** A flat file name: no separators, no leading dot (so no `..`, no hidden files). */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** esbuild's `[name]-[hash]` names: their content never changes, so they cache for a year. */
const HASHED_NAME = /-[A-Z0-9]{8}\.(?:js|css)(?:\.map)?$/;
/** A Host header safe to repeat in the CSP (a name or IP literal and an optional port). */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface ConsoleOptions {
  /** Directory holding the built console (default: dist/console/ of this checkout). */
  dir?: string;
}

/**
 * Strict CSP: scripts, styles, images and fonts from this origin only (no inline code), API
 * calls to this origin over HTTP and WebSocket, no framing, no plugins, no form posts away.
 */
export function consoleCsp(host: string): string {
  const sockets = SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Serve the built console under CONSOLE_PATH. */
export function consolePlugin(options: ConsoleOptions = {}): Plugin {
  const dir = options.dir ?? DEFAULT_DIR;
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const { pathname } = url;
      if (pathname !== CONSOLE_PATH && !pathname.startsWith(`${CONSOLE_PATH}/`)) return;
      const headers: Record<string, string> = {
        "content-security-policy": consoleCsp(url.host),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
      };
      const text = (status: number, body: string, extra: Record<string, string> = {}) =>
        endResponse(
          new fetchAPI.Response(request.method === "HEAD" ? null : `${body}\n`, {
            status,
            headers: { ...headers, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...extra },
          }),
        );
      if (request.method !== "GET" && request.method !== "HEAD") return text(405, "Method not allowed: use GET.", { allow: "GET, HEAD" });

      const rest = pathname.slice(CONSOLE_PATH.length + 1);
      const name = rest === "" ? "index.html" : rest;
      const type = CONTENT_TYPES[name.slice(name.lastIndexOf("."))];
      if (!FILE_NAME.test(name) || !type) return text(404, "Not found.");
      const file = join(dir, name);
      let body: Buffer;
      let etag: string;
      try {
        const info = await stat(file);
        if (!info.isFile()) return text(404, "Not found.");
        etag = `W/"${info.size.toString(16)}-${Math.trunc(info.mtimeMs).toString(16)}"`;
        body = await readFile(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        return name === "index.html"
          ? text(503, "The console is not built: run `npm run build:console` (npm ci runs it).")
          : text(404, "Not found.");
      }
      const cacheControl = HASHED_NAME.test(name) ? "public, max-age=31536000, immutable" : "no-cache";
      const common = { ...headers, "cache-control": cacheControl, etag };
      if (request.headers.get("if-none-match") === etag) return endResponse(new fetchAPI.Response(null, { status: 304, headers: common }));
      endResponse(
        new fetchAPI.Response(request.method === "HEAD" ? null : new Uint8Array(body), {
          status: 200,
          headers: { ...common, "content-type": type, "content-length": String(body.length) },
        }),
      );
    },
  };
}
