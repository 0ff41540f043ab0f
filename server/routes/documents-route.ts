import { mkdir, realpath, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type Request, type Response, Router } from "express";
import { AppError } from "../../src/errors/app-error.ts";
import type { RebuildJobs } from "../../src/ingest/rebuild-jobs.ts";
import { createLoaderRegistry } from "../../src/ingest/loaders/registry.ts";
import type { AppDeps } from "../app-deps.ts";
import { badRequest } from "../http-error.ts";
import { adminAuth } from "../middleware/admin-auth.ts";
import { isInside, resolveInside } from "../upload/inside-dir.ts";
import { receiveUpload } from "../upload/receive-upload.ts";
import { storeUploads } from "../upload/store-uploads.ts";
import { UPLOAD_LIMITS, UPLOAD_SUBDIR, type UploadLimits } from "../upload/upload-limits.ts";
import { startRebuildAfterWrite } from "./start-rebuild.ts";

/** Document ids are shortId() values: 16 lower-case hex characters. Anything else is refused before any lookup. */
const DOC_ID = /^[0-9a-f]{16}$/;

/**
 * GET /documents (public) lists the indexed documents. With rebuild jobs available, also the admin writes:
 * POST /documents (multipart upload into DOCS_DIR/uploads) and DELETE /documents/:id; both start a rebuild.
 * No route here returns document bytes; one that does must send Content-Disposition: attachment (nosniff is global).
 */
export function documentsRoute(deps: AppDeps, opts: { limits?: UploadLimits } = {}): Router {
  const router = Router();
  router.get("/documents", (_req, res) => {
    res.json({ documents: deps.kb.listDocuments() });
  });
  const jobs = deps.jobs;
  if (!jobs) return router;
  const auth = adminAuth(deps.config.adminToken);
  router.post("/documents", auth, (req, res) => upload(req, res, deps, jobs, opts.limits ?? UPLOAD_LIMITS));
  router.delete("/documents/:id", auth, (req, res) => remove(req, res, deps, jobs));
  return router;
}

const EXTENSIONS = createLoaderRegistry().extensions();

async function upload(req: Request, res: Response, deps: AppDeps, jobs: RebuildJobs, limits: UploadLimits): Promise<void> {
  if (!req.is("multipart/form-data")) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Upload files as multipart/form-data (one or more file parts).", { status: 415 });
  }
  const uploadsDir = join(deps.config.docsDir, UPLOAD_SUBDIR);
  await mkdir(uploadsDir, { recursive: true });
  // The real folders: a DOCS_DIR/uploads that is a symlink to somewhere else is refused, not written through.
  const [docsReal, uploadsReal] = await Promise.all([realpath(deps.config.docsDir), realpath(uploadsDir)]);
  if (!isInside(docsReal, uploadsReal)) throw new AppError("INTERNAL", "DOCS_DIR/uploads resolves outside DOCS_DIR; refusing to write.", { status: 500 });

  let files: Awaited<ReturnType<typeof receiveUpload>>;
  try {
    files = await receiveUpload(req, { dir: uploadsReal, limits, extensions: EXTENSIONS });
  } catch (err) {
    // The rest of an abandoned body is not read: close the connection after the error response instead.
    if (!req.complete) res.setHeader("Connection", "close");
    throw err;
  }
  const documents = await storeUploads(files, uploadsReal, docsReal);
  deps.logger.info("documents uploaded", { requestId: res.locals.requestId, sources: documents.map((d) => d.source) });
  res.status(202).json({ documents, ...startRebuildAfterWrite(jobs) });
}

async function remove(req: Request, res: Response, deps: AppDeps, jobs: RebuildJobs): Promise<void> {
  const id = String(req.params.id);
  if (!DOC_ID.test(id)) throw badRequest("A document id is 16 hexadecimal characters (see GET /documents).");
  const doc = deps.kb.listDocuments().find((d) => d.id === id);
  if (!doc) throw badRequest("No document with that id.", "NOT_FOUND", 404);
  let path: string | undefined;
  try {
    path = await resolveInside(deps.config.docsDir, doc.source);
    if (!path) throw badRequest("The document's path is not inside DOCS_DIR; nothing was deleted.");
    await unlink(path);
  } catch (err) {
    // Already gone from disk: the rebuild below still drops it from the index, which is what the client asked for.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  deps.logger.info("document deleted", { requestId: res.locals.requestId, source: doc.source });
  res.status(202).json({ deleted: { id: doc.id, source: doc.source }, ...startRebuildAfterWrite(jobs) });
}
