import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Response, Router } from "express";
import { AppError } from "../../src/errors/app-error.ts";
import type { AppDeps } from "../app-deps.ts";
import { createPageBundler, type PageBundle, PUBLIC_DIR } from "../web/bundle-page.ts";
import { renderPage } from "../web/render-page.ts";
import { exampleQuestions } from "./examples-route.ts";
import { healthBody } from "./health-route.ts";

export interface WebRouteOptions {
  /** The page script's bundler; tests pass one that fails. */
  bundler?: () => Promise<PageBundle>;
  publicDir?: string;
}

interface StaticFile {
  body: Buffer;
  etag: string;
}

const etagOf = (body: string | Buffer): string => `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;

/**
 * The chat page: GET / (index.html, filled with the current status so the first paint is right), /app.js (the bundled
 * TypeScript), /styles.css and the icon. Everything is served from this process (no CDN). Responses are revalidated
 * on every load (no-cache + ETag → 304), so a restarted server with a new page is never shadowed by a stale cache.
 */
export function webRoute(deps: AppDeps, opts: WebRouteOptions = {}): Router {
  const router = Router();
  const bundler = opts.bundler ?? createPageBundler();
  const dir = opts.publicDir ?? PUBLIC_DIR;
  const files = new Map<string, Promise<StaticFile>>();
  const file = (name: string): Promise<StaticFile> => {
    let f = files.get(name);
    if (!f) {
      f = readFile(join(dir, name)).then((body) => ({ body, etag: etagOf(body) }));
      f.catch(() => files.delete(name));
      files.set(name, f);
    }
    return f;
  };
  const send = (res: Response, type: string, body: string | Buffer, etag: string): void => {
    res.setHeader("Content-Type", type);
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("ETag", etag);
    res.send(body);
  };
  /** The script, or a 500 that says the page could not be built (the JSON API is unaffected). */
  const script = async (): Promise<PageBundle> => {
    try {
      return await bundler();
    } catch (err) {
      deps.logger.error("chat page build failed", { err });
      throw new AppError("INTERNAL", "The chat page could not be built (esbuild failed; see the server log). The JSON API still works.", {
        status: 500,
        expose: true,
        cause: err,
      });
    }
  };

  router.get(["/", "/index.html"], async (_req, res) => {
    await script(); // a page whose script cannot be built is not served half-working
    const template = await file("index.html");
    const health = healthBody(deps);
    const html = renderPage(template.body.toString("utf8"), {
      documents: health.index.documents,
      chunks: health.index.chunks,
      llm: health.llm,
      degraded: health.status === "degraded" ? (health.message ?? "no usable index") : undefined,
      writes: health.writes,
      examples: exampleQuestions(deps.kb.listHeadingPaths()),
    });
    send(res, "text/html; charset=utf-8", html, etagOf(html));
  });
  router.get("/app.js", async (_req, res) => {
    const { code, etag } = await script();
    send(res, "text/javascript; charset=utf-8", code, etag);
  });
  router.get("/styles.css", async (_req, res) => {
    const css = await file("styles.css");
    send(res, "text/css; charset=utf-8", css.body, css.etag);
  });
  router.get("/favicon.svg", async (_req, res) => {
    const icon = await file("favicon.svg");
    send(res, "image/svg+xml", icon.body, icon.etag);
  });
  router.get("/favicon.ico", (_req, res) => {
    res.status(204).end();
  });
  return router;
}
