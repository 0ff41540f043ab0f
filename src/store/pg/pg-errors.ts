import { AppError, describeError } from "../../errors/app-error.ts";

/**
 * Errors that mean "the database cannot be reached or is going away", as opposed to a bad query: connection refused
 * or reset, a dropped connection, a server shutting down, a statement or connect timeout. They become DB_UNAVAILABLE
 * (503): the request fails cleanly, the server keeps its snapshot in memory, and the pool reconnects on its own.
 */
const NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
// SQLSTATE: 08xxx connection exceptions; 57P01–57P03 shutdown / crash / cannot connect now; 57014 statement timeout.
const SQL_STATES = new Set(["57P01", "57P02", "57P03", "57014", "53300"]);

export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  if (NODE_CODES.has(code) || SQL_STATES.has(code) || code.startsWith("08")) return true;
  const message = typeof e.message === "string" ? e.message : "";
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
      message,
    )
  ) {
    return true;
  }
  // AggregateError from net.connect trying several addresses.
  return Array.isArray(e.errors) && e.errors.some(isConnectionError);
}

/** What a client sees: the failure's code, never DATABASE_URL (it usually holds a password) nor the query. */
export function dbUnavailable(err: unknown): AppError {
  const e = err as { code?: unknown };
  const why = typeof e?.code === "string" ? e.code : describeError(err).slice(0, 80);
  return new AppError(
    "DB_UNAVAILABLE",
    `The database (DATABASE_URL) cannot be reached (${why}). Requests succeed again as soon as it is back; nothing needs restarting.`,
    { status: 503, expose: true, cause: err },
  );
}

/** Connection failures become DB_UNAVAILABLE; anything else is rethrown as it is. */
export function rethrowDbError(err: unknown): never {
  if (err instanceof AppError) throw err;
  if (isConnectionError(err)) throw dbUnavailable(err);
  throw err;
}

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
