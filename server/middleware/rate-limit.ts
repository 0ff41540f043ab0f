import type { RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import { AppError } from "../../src/errors/app-error.ts";

/**
 * Per-client limit on the endpoints that cost CPU or model tokens (/ask, /v1/chat/completions). Clients are keyed by
 * req.ip (IPv6 by /56 subnet, the library's default) — behind a reverse proxy set TRUST_PROXY so that is the real
 * client, not the proxy. express-rate-limit rather than our own counter: it gets the IPv6 subnetting, the
 * RateLimit/Retry-After headers and the window bookkeeping right. The store is per process (one limit per worker).
 */
export function answerRateLimit(perMinute: number): RequestHandler {
  if (perMinute <= 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    // Preflights are free; an OPTIONS flood is answered cheaply anyway.
    skip: (req) => req.method === "OPTIONS",
    // With no trusted proxy, a client's own X-Forwarded-For is ignored (req.ip is the socket's peer), which is right;
    // the library's warning about it would let any client fill the log.
    validate: { xForwardedForHeader: false },
    handler: (_req, res, next) => {
      next(
        new AppError("RATE_LIMITED", `Too many questions from this client: at most ${perMinute} per minute. Wait and try again (see Retry-After).`, {
          status: 429,
        }),
      );
      void res;
    },
  });
}
