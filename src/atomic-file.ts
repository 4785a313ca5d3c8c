/**
 * Replacing a small file atomically, for the positions tracegate's followers keep (the
 * shipper's state, src/ship/state.ts; the forwarder's cursor, src/forward/state.ts): a crash
 * at any point leaves the old content or the new one, never a mix or an empty file.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Replace `path` with `text` (UTF-8): write a temp file beside it (mode 0600, created
 * exclusively), fsync it, rename it over `path`, then fsync the directory where the platform
 * allows, so the rename itself survives a power loss. A failed write leaves the old file and
 * no temp file.
 * @throws the file system's error (ENOSPC, EACCES...) when the temp file cannot be written or renamed.
 */
export async function replaceFileAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  let created = false;
  try {
    const fh = await open(tmp, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
    created = true;
    try {
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // Make the rename itself durable (best effort: not every platform can fsync a directory).
  try {
    const dir = await open(dirname(path), "r");
    await dir.sync().catch(() => undefined);
    await dir.close();
  } catch {
    // ignore
  }
}
