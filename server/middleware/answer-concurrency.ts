import type { RequestHandler } from "express";
import { AppError } from "../../src/errors/app-error.ts";

/**
 * Caps answers in progress in this process (MAX_CONCURRENT_ANSWERS). Past the cap a client gets 503 with Retry-After
 * at once, instead of every stream slowing down and memory growing with a queue nobody bounded. A slot is freed when
 * the response finishes or the client goes away ("close" fires in both cases, exactly once).
 */
export function answerConcurrency(max: number): RequestHandler & { readonly inFlight: number } {
  let inFlight = 0;
  const middleware: RequestHandler = (_req, res, next) => {
    if (inFlight >= max) {
      res.setHeader("Retry-After", "1");
      next(new AppError("OVERLOADED", "The server is answering as many questions as it can; try again in a moment.", { status: 503, expose: true }));
      return;
    }
    inFlight++;
    res.once("close", () => {
      inFlight--;
    });
    next();
  };
  return Object.defineProperty(middleware, "inFlight", { get: () => inFlight }) as RequestHandler & { readonly inFlight: number };
}
