// Crash-safe file replacement: write a temp file beside the target, fsync it, rename over the
// target, fsync the directory. A crash at any point leaves either the old or the new file, whole.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { EdgerunError } from "../format/errors.js";

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  let fd = -1;
  try {
    fd = openSync(tmp, "w", 0o644);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
    syncDir(dirname(path));
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* the temp file may not exist */
    }
    const err = e as NodeJS.ErrnoException;
    throw new EdgerunError("FS_WRITE_FAILED", `cannot write ${path}: ${err.code ?? err.message}`, { path });
  }
}

function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    /* some filesystems do not allow fsync on directories */
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
