import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../../src/errors/app-error.ts";

/** Query parameters some clients use for tokens; a token there ends up in logs and browser history, so it is refused. */
const QUERY_TOKEN_PARAMS = ["token", "access_token"];

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * Guards write endpoints with `Authorization: Bearer <ADMIN_TOKEN>`. With no ADMIN_TOKEN configured they are
 * disabled (403), never open. Tokens are compared as SHA-256 digests with timingSafeEqual: equal-length inputs, so
 * neither the content nor the length of the token leaks through timing. The token is never logged.
 */
export function adminAuth(adminToken: string | undefined) {
  const expected = adminToken ? digest(adminToken) : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    const refuse = (err: AppError): void => {
      // An unread upload body is not drained for a refused client: the connection closes after the response.
      if (!req.complete) res.setHeader("Connection", "close");
      next(err);
    };
    if (!expected) {
      refuse(new AppError("WRITE_DISABLED", "write endpoints are disabled: set ADMIN_TOKEN", { status: 403 }));
      return;
    }
    const unauthorized = (message: string): void => {
      res.setHeader("WWW-Authenticate", "Bearer");
      refuse(new AppError("UNAUTHORIZED", message, { status: 401 }));
    };
    if (QUERY_TOKEN_PARAMS.some((p) => p in (req.query as Record<string, unknown>))) {
      unauthorized("Send the admin token in the Authorization header (Bearer), not in the URL.");
      return;
    }
    const given = /^Bearer[ \t]+(.*)$/i.exec(req.get("authorization") ?? "")?.[1]?.trim();
    if (!given) {
      unauthorized("This endpoint needs Authorization: Bearer <ADMIN_TOKEN>.");
      return;
    }
    if (!timingSafeEqual(digest(given), expected)) {
      unauthorized("The admin token is not valid.");
      return;
    }
    next();
  };
}
