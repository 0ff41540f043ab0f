import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { AppError, DiskFullError, isDiskFull } from "../errors/app-error.ts";

/**
 * One rebuild at a time per VECTORSTORE_DIR, across the CLI and any number of server processes: an exclusive lock
 * file holding the owner's pid, host and start time. A lock whose process is gone (same host, pid not alive) is stale
 * — left by a killed build — and is taken over; so is one older than STALE_AFTER_MS whatever its owner.
 */
export const LOCK_FILE = ".rebuild.lock";
const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

export class RebuildBusyError extends AppError {
  constructor(owner: string) {
    super("REBUILD_IN_PROGRESS", `A rebuild is already running (${owner}). Wait for it to finish, then try again.`, { status: 409, expose: true });
  }
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(file, "utf8")) as LockInfo;
    return typeof info.pid === "number" ? info : undefined;
  } catch {
    return undefined;
  }
}

function isStale(info: LockInfo | undefined): boolean {
  if (!info) return true; // unreadable: a crash between create and write
  if (Date.now() - info.startedAt > STALE_AFTER_MS) return true;
  return info.host === hostname() && !alive(info.pid);
}

/** Takes the lock or throws RebuildBusyError; the returned function releases it. */
export function acquireRebuildLock(storeDir: string): () => void {
  mkdirSync(storeDir, { recursive: true });
  const file = join(storeDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: Date.now() } satisfies LockInfo));
      } catch (err) {
        // A full disk: no empty lock file is left behind (it would read as stale, but it is litter all the same).
        closeSync(fd);
        rmSync(file, { force: true });
        if (isDiskFull(err)) throw new DiskFullError("Not enough disk space to start a rebuild (VECTORSTORE_DIR). Free some space and try again.", err);
        throw err;
      }
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const info = readLock(file);
      if (!isStale(info)) throw new RebuildBusyError(info ? `process ${info.pid} on ${info.host}` : "another process");
      rmSync(file, { force: true });
    }
  }
  throw new RebuildBusyError("another process");
}
