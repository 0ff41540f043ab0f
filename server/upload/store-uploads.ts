import { link, lstat, rename, rm } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { AppError, DiskFullError, isDiskFull } from "../../src/errors/app-error.ts";
import { isInside } from "./inside-dir.ts";
import { type ReceivedFile, UPLOAD_DISK_FULL } from "./receive-upload.ts";
import { numberedName } from "./safe-file-name.ts";

const MAX_NUMBERED = 1000;

export interface StoredFile {
  /** Path relative to DOCS_DIR, `/`-separated: the document's `source`. */
  source: string;
  bytes: number;
}

/**
 * Moves checked temp files to their final names in `uploadsDir` (inside `docsDir`): the sanitised name, or
 * `name (2).ext`, `name (3).ext`… when it is taken. A hard link claims a name atomically without ever replacing an
 * existing file (rename would overwrite); the temp file is then removed. All or nothing: if one file cannot be
 * stored, the ones already stored by this call are removed again.
 */
export async function storeUploads(files: readonly ReceivedFile[], uploadsDir: string, docsDir: string): Promise<StoredFile[]> {
  const stored: { path: string; file: StoredFile }[] = [];
  try {
    for (const f of files) {
      const path = await claimName(f, uploadsDir);
      stored.push({ path, file: { source: relative(docsDir, path).split(sep).join("/"), bytes: f.bytes } });
    }
    return stored.map((s) => s.file);
  } catch (err) {
    await Promise.all(stored.map((s) => rm(s.path, { force: true })));
    // Claiming a name adds a directory entry, which can also run out of space.
    if (isDiskFull(err)) throw new DiskFullError(UPLOAD_DISK_FULL, err);
    throw err;
  } finally {
    await Promise.all(files.map((f) => rm(f.tempPath, { force: true })));
  }
}

async function claimName(f: ReceivedFile, uploadsDir: string): Promise<string> {
  for (let n = 1; n <= MAX_NUMBERED; n++) {
    const target = join(uploadsDir, numberedName(f.name, n));
    // The name has no separators, so this cannot fail; checked anyway because a write outside DOCS_DIR must never happen.
    if (!isInside(uploadsDir, target)) throw new AppError("INTERNAL", "Refusing to write outside the uploads folder.", { status: 500 });
    try {
      await link(f.tempPath, target);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
      // A filesystem without hard links: check, then rename (a small race, acceptable on such a filesystem).
      if (await exists(target)) continue;
      await rename(f.tempPath, target);
      return target;
    }
  }
  throw new AppError("BAD_REQUEST", `Too many files named like ${numberedName(f.name, 1)}; rename the file and try again.`, { status: 400 });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
