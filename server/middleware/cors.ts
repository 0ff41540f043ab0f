import type { RequestHandler } from "express";

const ALLOW_METHODS = "GET, POST, DELETE, OPTIONS";
const ALLOW_HEADERS = "Content-Type, Authorization, Accept, X-Request-Id";

/**
 * CORS only for configured origins (CORS_ORIGINS). With none configured no CORS header is ever sent, so browsers keep
 * other sites' pages from reading answers or driving the admin API with a user's token. Never `*`, never a reflected
 * arbitrary origin. Hand-written: the whole policy is an exact-match allowlist, smaller than configuring a library.
 */
export function corsAllowlist(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return (req, res, next) => {
    const origin = req.get("origin");
    if (allowed.size === 0 || !origin) return next();
    res.vary("Origin");
    if (!allowed.has(origin.toLowerCase())) {
      // A preflight from a foreign origin gets no grant; the browser then refuses the real request.
      if (req.method === "OPTIONS") {
        res.status(204).end();
        return;
      }
      return next();
    }
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, RateLimit, RateLimit-Policy");
    if (req.method === "OPTIONS" && req.get("access-control-request-method")) {
      res.setHeader("Access-Control-Allow-Methods", ALLOW_METHODS);
      res.setHeader("Access-Control-Allow-Headers", ALLOW_HEADERS);
      res.setHeader("Access-Control-Max-Age", "600");
      res.status(204).end();
      return;
    }
    next();
  };
}
