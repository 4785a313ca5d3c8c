/**
 * The load generator of the HTTP page benchmark (bench/page-http.ts), one process of its own:
 * `node bench/page-load.ts PORT SECONDS CONNECTIONS BODIES_JSON [AUTHORIZATION]`.
 *
 * CONNECTIONS keep-alive connections each send POST /graphql requests back to back for
 * SECONDS, cycling through the serialised bodies in BODIES_JSON (a JSON array of strings),
 * and read every response whole. Prints one JSON line: requests completed, non-200 answers,
 * response bytes and the seconds the load ran. Plain node:http, no dependency: it runs
 * the same against every server.
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";

const [port = "0", seconds = "5", connections = "8", bodiesFile = "", authorization] = process.argv.slice(2);
const bodies = (JSON.parse(readFileSync(bodiesFile, "utf8")) as string[]).map((b) => Buffer.from(b, "utf8"));
const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
const until = performance.now() + Number(seconds) * 1000;
let requests = 0;
let failed = 0;
let bytes = 0;
let next = 0;

function once(body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port: Number(port),
        path: "/graphql",
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": body.length,
          ...(authorization ? { authorization } : {}),
        },
      },
      (res) => {
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on("end", () => {
          if (res.statusCode === 200) requests++;
          else failed++;
          resolve();
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function connection(): Promise<void> {
  while (performance.now() < until) {
    await once(bodies[next++ % bodies.length] as Buffer);
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: Number(connections) }, connection));
const ran = (performance.now() - t0) / 1000;
agent.destroy();
console.log(JSON.stringify({ requests, failed, bytes, seconds: ran }));
