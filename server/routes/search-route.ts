import { Router } from "express";
import { z } from "zod";
import { MAX_K } from "../../src/knowledge-base/knowledge-base.ts";
import type { AppDeps } from "../app-deps.ts";
import { parseBody } from "../validate.ts";

export const MAX_QUERY_CHARS = 2000;

export const SearchBody = z.object({
  query: z
    .string({ error: "query must be a string" })
    .trim()
    .min(1, "query must not be empty")
    .max(MAX_QUERY_CHARS, `query must be at most ${MAX_QUERY_CHARS} characters`),
  k: z
    .number({ error: "k must be a number" })
    .int("k must be a whole number")
    .min(1, "k must be at least 1")
    .max(MAX_K, `k must be at most ${MAX_K}`)
    .optional(),
});

export function searchRoute(deps: AppDeps): Router {
  const router = Router();
  router.post("/search", async (req, res) => {
    const body = parseBody(SearchBody, req.body);
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    // No usable index (never built, damaged, other embeddings): the search throws 503 with the code and message
    // /health shows, never an empty list that would pass for "nothing relevant". An empty index answers [].
    const results = await deps.kb.search(body.query, body.k ?? deps.config.topK, abort.signal);
    res.json({ results });
  });
  return router;
}
