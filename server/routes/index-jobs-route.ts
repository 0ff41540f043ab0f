import { Router } from "express";
import { z } from "zod";
import type { RebuildJob, RebuildJobs } from "../../src/ingest/rebuild-jobs.ts";
import type { AppDeps } from "../app-deps.ts";
import { badRequest } from "../http-error.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import { parseBody } from "../validate.ts";

const RebuildBody = z.strictObject({ full: z.boolean({ error: "full must be a boolean" }).optional() });

/** The public view of a job: what GET /index/jobs/:id returns. */
export function jobView(job: RebuildJob) {
  return {
    id: job.id,
    state: job.state,
    full: job.full,
    progress: { done: job.progress.done, total: job.progress.total, phase: job.progress.phase },
    ...(job.summary ? { summary: job.summary } : {}),
    ...(job.error ? { error: job.error } : {}),
    createdAt: job.createdAt,
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
  };
}

/** POST /index/rebuild (admin) starts a rebuild job; GET /index/jobs/:id (public) reports on it. */
export function indexJobsRoute(deps: AppDeps, jobs: RebuildJobs): Router {
  const router = Router();
  router.post("/index/rebuild", adminAuth(deps.config.adminToken), (req, res) => {
    // The body is optional: a bare POST starts an incremental rebuild.
    const body = req.body === undefined ? {} : parseBody(RebuildBody, req.body);
    const job = jobs.start({ full: body.full ?? false }); // RebuildBusyError → 409 REBUILD_IN_PROGRESS
    res.status(202).location(`/index/jobs/${job.id}`).json({ jobId: job.id });
  });
  router.get("/index/jobs/:id", (req, res) => {
    const job = jobs.get(req.params.id);
    if (!job) throw badRequest("No rebuild job with that id (finished jobs are kept for a while, in the process that ran them).", "NOT_FOUND", 404);
    res.json(jobView(job));
  });
  return router;
}
