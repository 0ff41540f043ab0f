import express, { type Express, type Request } from "express";
import { AppError } from "../src/errors/app-error.ts";
import type { AppDeps } from "./app-deps.ts";
import { badRequest } from "./http-error.ts";
import { answerConcurrency } from "./middleware/answer-concurrency.ts";
import { corsAllowlist } from "./middleware/cors.ts";
import { errorHandler } from "./middleware/error-handler.ts";
import { answerRateLimit } from "./middleware/rate-limit.ts";
import { requestId } from "./middleware/request-id.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { askRoute } from "./routes/ask-route.ts";
import { documentsRoute } from "./routes/documents-route.ts";
import { examplesRoute } from "./routes/examples-route.ts";
import { healthRoute } from "./routes/health-route.ts";
import { indexJobsRoute } from "./routes/index-jobs-route.ts";
import { openaiRoute } from "./routes/openai-route.ts";
import { searchRoute } from "./routes/search-route.ts";
import { type WebRouteOptions, webRoute } from "./routes/web-route.ts";

export const JSON_BODY_LIMIT = "64kb";

/** Uploads are multipart; the documents route checks their content type itself. Routing is case-insensitive. */
const MULTIPART_PATH = /^\/documents\/?$/i;

/** `POST /index/rebuild` takes an optional JSON body: a bare POST (no body, so no content type) is fine. */
function bodylessRebuild(req: Request): boolean {
  const length = req.headers["content-length"];
  return /^\/index\/rebuild\/?$/i.test(req.path) && req.headers["transfer-encoding"] === undefined && (length === undefined || length === "0");
}

/** Builds the Express app. Never listens: start-server.ts and tests decide where it runs. */
export function createApp(deps: AppDeps, opts: { web?: WebRouteOptions } = {}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  // Who the client is (rate limits, logs) behind a reverse proxy: only as far as TRUST_PROXY says to believe X-Forwarded-For.
  app.set("trust proxy", deps.config.http.trustProxy);
  app.use(requestId());
  app.use(corsAllowlist(deps.config.http.corsOrigins));
  app.use(securityHeaders());
  // Only JSON bodies are accepted; `strict` refuses bare strings/numbers, inflated bodies count against the limit.
  app.use(express.json({ limit: JSON_BODY_LIMIT, strict: true, type: ["application/json", "application/*+json"] }));
  app.use((req, _res, next) => {
    if (req.method === "POST" && !req.is("application/json") && !req.is("application/*+json") && !MULTIPART_PATH.test(req.path) && !bodylessRebuild(req)) {
      next(new AppError("UNSUPPORTED_MEDIA_TYPE", "Send a JSON body with Content-Type: application/json.", { status: 415 }));
      return;
    }
    next();
  });
  // Answer endpoints cost CPU and model tokens: per-client rate limit, then a per-process cap on answers in progress.
  const answerGuards = [answerRateLimit(deps.config.http.rateLimitPerMin), answerConcurrency(deps.config.http.maxConcurrentAnswers)];
  app.post(["/ask", "/v1/chat/completions"], ...answerGuards);
  app.use(healthRoute(deps));
  app.use(searchRoute(deps));
  app.use(askRoute(deps));
  app.use(openaiRoute(deps));
  app.use(documentsRoute(deps));
  if (deps.jobs) app.use(indexJobsRoute(deps, deps.jobs));
  app.use(examplesRoute(deps));
  app.use(webRoute(deps, opts.web));
  app.use((req, _res, next) => next(badRequest(`No route for ${req.method} ${req.path}`, "NOT_FOUND", 404)));
  app.use(errorHandler(deps.logger));
  return app;
}
