import { randomUUID } from "node:crypto";
import { describeError, isAppError } from "../errors/app-error.ts";
import { RebuildBusyError } from "./rebuild-lock.ts";
import type { IngestProgress, IngestSummary } from "./run-ingest.ts";

export type JobState = "queued" | "running" | "succeeded" | "failed";

export interface RebuildJob {
  id: string;
  state: JobState;
  full: boolean;
  progress: { phase: IngestProgress["phase"] | "queued"; done: number; total: number };
  summary?: IngestSummary;
  error?: { code: string; message: string };
  createdAt: string;
  finishedAt?: string;
}

export type RunRebuild = (opts: { full: boolean; onProgress: (p: IngestProgress) => void }) => Promise<IngestSummary>;

const KEEP_FINISHED = 50;

/**
 * Rebuilds started over HTTP (or by the docs watcher) run as jobs: one at a time in this process (a second request
 * while one runs is refused with 409), and the cross-process lock inside the run refuses a concurrent CLI build.
 * Finished jobs are kept (the last 50) so clients can read their summary.
 */
export class RebuildJobs {
  private readonly jobs = new Map<string, RebuildJob>();
  private active: RebuildJob | undefined;

  constructor(private readonly run: RunRebuild) {}

  get running(): RebuildJob | undefined {
    return this.active;
  }

  /** Starts a rebuild now; throws RebuildBusyError (409) when one is already running here. */
  start(opts: { full?: boolean } = {}): RebuildJob {
    if (this.active) throw new RebuildBusyError(`job ${this.active.id}`);
    const job: RebuildJob = {
      id: randomUUID(),
      state: "running",
      full: opts.full ?? false,
      progress: { phase: "queued", done: 0, total: 0 },
      createdAt: new Date().toISOString(),
    };
    this.active = job;
    this.remember(job);
    this.run({
      full: job.full,
      onProgress: (p) => {
        job.progress = { phase: p.phase, done: p.done, total: p.total };
      },
    })
      .then(
        (summary) => {
          job.state = "succeeded";
          job.summary = summary;
        },
        (err: unknown) => {
          job.state = "failed";
          job.error =
            isAppError(err) && err.expose
              ? { code: err.code, message: err.message }
              : { code: "INGEST_FAILED", message: `The rebuild failed: ${describeError(err)}` };
        },
      )
      .finally(() => {
        job.finishedAt = new Date().toISOString();
        if (this.active === job) this.active = undefined;
      });
    return job;
  }

  get(id: string): RebuildJob | undefined {
    return this.jobs.get(id);
  }

  /** Resolves when the job has finished (for tests and the CLI-style callers). */
  async wait(id: string, pollMs = 20): Promise<RebuildJob | undefined> {
    for (;;) {
      const job = this.jobs.get(id);
      if (!job || job.state === "succeeded" || job.state === "failed") return job;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private remember(job: RebuildJob): void {
    this.jobs.set(job.id, job);
    if (this.jobs.size > KEEP_FINISHED) {
      for (const [id, j] of this.jobs) {
        if (this.jobs.size <= KEEP_FINISHED) break;
        if (j !== this.active) this.jobs.delete(id);
      }
    }
  }
}
