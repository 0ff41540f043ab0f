import type { RebuildJobs } from "../../src/ingest/rebuild-jobs.ts";
import { RebuildBusyError } from "../../src/ingest/rebuild-lock.ts";

export type RebuildStarted = { jobId: string } | { jobId: null; message: string };

/**
 * Starts the rebuild that makes a write (upload, delete) visible in the index. A write is kept even when a rebuild
 * is already running: that one may have scanned the folder before the write, so the client is told to start another.
 */
export function startRebuildAfterWrite(jobs: RebuildJobs): RebuildStarted {
  try {
    return { jobId: jobs.start({ full: false }).id };
  } catch (err) {
    if (err instanceof RebuildBusyError) return { jobId: null, message: "saved; a rebuild is already running — start another when it finishes" };
    throw err;
  }
}
