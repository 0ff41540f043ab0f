import { Router } from "express";
import type { AppDeps } from "../app-deps.ts";

export function healthRoute(deps: AppDeps): Router {
  const router = Router();
  router.get("/health", (_req, res) => {
    const s = deps.kb.status();
    res.json({ ...s, llm: deps.llm ? { provider: deps.llm.provider, model: deps.llm.model } : null });
  });
  return router;
}
