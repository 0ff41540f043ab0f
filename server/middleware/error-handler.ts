import type { NextFunction, Request, Response } from "express";
import { abandonedByClient, toErrorResponse } from "../http-error.ts";
import type { Logger } from "../logger.ts";

/** The single place errors become HTTP responses. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const requestId = res.locals.requestId as string | undefined;
    const { status, body } = toErrorResponse(err, requestId);
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
