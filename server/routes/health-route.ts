import { Router } from "express";
import type { AppDeps } from "../app-deps.ts";

/**
 * The body of GET /health: the index, the answer model, and whether the write endpoints (upload, delete, rebuild)
 * are on — they are only with rebuild jobs wired in and an ADMIN_TOKEN configured. The chat page shows all three.
 */
export function healthBody(deps: AppDeps) {
  return {
    ...deps.kb.status(),
    llm: deps.llm ? { provider: deps.llm.provider, model: deps.llm.model } : null,
    writes: deps.jobs && deps.config.adminToken ? ("enabled" as const) : ("disabled" as const),
  };
}

export function healthRoute(deps: AppDeps): Router {
  const router = Router();
  router.get("/health", (_req, res) => {
    res.json(healthBody(deps));
  });
  return router;
}
