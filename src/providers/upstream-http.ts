/**
 * Reading errors from OpenAI-compatible upstreams (the openai SDK as LangChain uses it), shared by the embeddings and
 * chat clients. Classification is by status, name and code — never by message text.
 */

/** A Retry-After longer than this fails now instead of stalling an ingest or a query (LangChain uses the same bound). */
export const MAX_RETRY_AFTER_MS = 60_000;

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

export function statusOf(err: unknown): number | undefined {
  return isRecord(err) && typeof err.status === "number" ? err.status : undefined;
}

export function headerOf(err: unknown, name: string): string | undefined {
  const headers = isRecord(err) ? err.headers : undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  return undefined;
}

export function retryAfterMs(err: unknown): number | undefined {
  const ms = Number(headerOf(err, "retry-after-ms"));
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headerOf(err, "retry-after")?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Decides, inside LangChain's retry loop, whether an attempt is retried (return) or final (throw). LangChain's
 * default does not retry 409 or a 429 without Retry-After; ours retries what is transient by HTTP convention —
 * timeouts, dropped connections, 408/409/429/5xx — and hands Retry-After to p-retry, which waits at least that long.
 */
export function retryPolicy(err: unknown): void {
  if (isRecord(err) && err.name === "AbortError") throw err;
  const status = statusOf(err);
  if (status === undefined) return;
  if (status === 429 && isRecord(err) && err.code === "insufficient_quota") throw err; // a quota does not come back in seconds
  if (!(status === 408 || status === 409 || status === 429 || status >= 500)) throw err;
  const wait = retryAfterMs(err);
  if (wait === undefined) return;
  if (wait > MAX_RETRY_AFTER_MS) throw err;
  (err as { retryAfterMs?: number }).retryAfterMs = wait;
}

/** The socket-level code (ECONNREFUSED, ENOTFOUND…) from the SDK's APIConnectionError → fetch TypeError → cause chain. */
export function transportCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; isRecord(e) && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === "string" && /^[A-Z][A-Z0-9_]+$/.test(e.code)) return e.code;
  }
  return isRecord(err) && err.constructor?.name === "APIConnectionError" ? "no response" : undefined;
}
