import type { NextFunction, Request, Response } from "express";
import { abandonedByClient, type ErrorBody, toErrorResponse } from "./http-error.ts";
import type { Logger } from "./logger.ts";

/**
 * The project's error body plus OpenAI's `type`, which OpenAI SDKs copy onto their error objects (`err.type`).
 * `code` stays our machine code, so one client can handle both /ask and /v1 errors the same way.
 */
export interface OpenAiErrorBody {
  error: ErrorBody["error"] & { type: "invalid_request_error" | "server_error" };
}

export function toOpenAiErrorResponse(err: unknown, requestId?: string): { status: number; body: OpenAiErrorBody } {
  const { status, body } = toErrorResponse(err, requestId);
  return { status, body: { error: { ...body.error, type: status >= 500 ? "server_error" : "invalid_request_error" } } };
}

/**
 * Error middleware for the /v1 surface. It has to sit at app level (a Router is skipped while an error propagates), so
 * it also sees errors from the body parser, which runs before any route; errors on other paths pass through untouched.
 */
export function openAiErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (!/^\/v1(\/|$)/.test(req.path)) {
      next(err);
      return;
    }
    const requestId = res.locals.requestId as string | undefined;
    const { status, body } = toOpenAiErrorResponse(err, requestId);
    if (abandonedByClient(err, req)) {
      logger.info("request abandoned by the client", { requestId, method: req.method, path: req.path });
      res.end();
      return;
    }
    if (status >= 500) logger.error("request failed", { requestId, method: req.method, path: req.path, status, err });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(body);
  };
}
