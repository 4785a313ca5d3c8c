// The container's health probe (HEALTHCHECK in deploy/Dockerfile, healthcheck in
// deploy/compose.yaml): GET /readyz on the gateway's own port; exit 0 when it answers 200
// (ready, or degraded: Redis down but the replica still commits and serves), 1 otherwise
// (the database does not answer or cannot commit writes, or nothing listens).
// Plain Node (global fetch), no dependencies, so it runs in the slim runtime image.
const port = process.env.PORT || "4000";
const url = `http://127.0.0.1:${port}/readyz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  if (res.status !== 200) {
    process.stderr.write(`unhealthy: ${url} answered ${res.status} ${body}\n`);
    process.exit(1);
  }
  process.stdout.write(`${body}\n`);
} catch (e) {
  process.stderr.write(`unhealthy: ${url}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
