import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

/** Every request gets an id (a sane incoming X-Request-Id is kept) that appears in logs, error bodies and headers. */
export function requestId() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get("x-request-id");
    const id = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader("X-Request-Id", id);
    next();
  };
}
