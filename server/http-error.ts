import type { IncomingMessage } from "node:http";
import { isAbort } from "../src/answer/upstream-error.ts";
import { AppError, isAppError } from "../src/errors/app-error.ts";

/** The one JSON error shape of the API: {"error": {"code", "message", "requestId"?}}. */
export interface ErrorBody {
  error: { code: string; message: string; requestId?: string };
}

export function badRequest(message: string, code: "BAD_REQUEST" | "NOT_FOUND" = "BAD_REQUEST", status = 400): AppError {
  return new AppError(code, message, { status, expose: true });
}

/** Maps anything thrown to a status and a body that is safe to send: 5xx details stay in the log. */
export function toErrorResponse(err: unknown, requestId?: string): { status: number; body: ErrorBody } {
  const withId = (code: string, message: string): ErrorBody => ({ error: { code, message, ...(requestId ? { requestId } : {}) } });
  if (isAppError(err)) {
    return { status: err.status, body: withId(err.code, err.expose ? err.message : "The server could not complete the request.") };
  }
  // body-parser / express errors carry a status and a type.
  const e = err as { status?: number; statusCode?: number; type?: string; expose?: boolean; message?: string };
  const status = e.status ?? e.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const code =
      e.type === "entity.too.large"
        ? "PAYLOAD_TOO_LARGE"
        : e.type === "entity.parse.failed"
          ? "INVALID_JSON"
          : e.type === "encoding.unsupported"
            ? "UNSUPPORTED_ENCODING"
            : "BAD_REQUEST";
    const message =
      code === "PAYLOAD_TOO_LARGE"
        ? "The request body is too large."
        : code === "INVALID_JSON"
          ? "The request body is not valid JSON."
          : e.expose && e.message
            ? e.message
            : "Bad request.";
    return { status, body: withId(code, message) };
  }
  return { status: 500, body: withId("INTERNAL", "The server could not complete the request.") };
}

/**
 * The client hung up, and the work was cancelled because of it (the routes abort retrieval and the model call when the
 * response closes early): nothing failed on our side and there is nobody to answer, so this is not logged as an error.
 */
export function abandonedByClient(err: unknown, req: IncomingMessage): boolean {
  return req.socket.destroyed && (isAbort(err) || (err instanceof Error && err.name === "AbortError"));
}
