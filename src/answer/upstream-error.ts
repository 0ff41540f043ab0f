import { UpstreamError } from "../errors/app-error.ts";
import { isRecord, statusOf, transportCode } from "../providers/upstream-http.ts";

/**
 * Maps a failed model call to an UpstreamError: timeout → 504; 401/403 → 502 UPSTREAM_AUTH; 429 → 502
 * UPSTREAM_RATE_LIMITED; other HTTP errors → 502 UPSTREAM_ERROR; unparseable bodies or streams → 502
 * UPSTREAM_BAD_RESPONSE. By status and error name only. The message never carries the upstream body (it can echo
 * keys or prompts) and the SDK error is not kept as `cause` for the same reason.
 */
export function toUpstreamError(err: unknown, where: { provider: string; model: string; timeoutMs: number }): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const who = `The answer model (${where.provider}:${where.model})`;
  const status = statusOf(err);
  if (status !== undefined) {
    if (status === 401 || status === 403) return new UpstreamError("UPSTREAM_AUTH", `${who} refused the API key (HTTP ${status}). Check LLM_API_KEY.`);
    if (status === 429) return new UpstreamError("UPSTREAM_RATE_LIMITED", `${who} is rate-limiting requests (HTTP 429). Try again later.`);
    if (status === 408 || status === 504) return new UpstreamError("UPSTREAM_TIMEOUT", `${who} timed out (HTTP ${status}).`);
    return new UpstreamError("UPSTREAM_ERROR", `${who} failed (HTTP ${status}).`);
  }
  const name = isRecord(err) && typeof err.name === "string" ? err.name : "";
  if (name === "TimeoutError" || name === "APIConnectionTimeoutError") {
    return new UpstreamError("UPSTREAM_TIMEOUT", `${who} did not answer within ${where.timeoutMs} ms.`);
  }
  if (name === "SyntaxError" || name === "TypeError") {
    return new UpstreamError("UPSTREAM_BAD_RESPONSE", `${who} sent a response that is not valid OpenAI-compatible JSON.`);
  }
  const code = transportCode(err);
  if (code) return new UpstreamError("UPSTREAM_ERROR", `${who} could not be reached (${code}).`);
  return new UpstreamError("UPSTREAM_ERROR", `${who} failed.`);
}

export function isAbort(err: unknown): boolean {
  return isRecord(err) && (err.name === "AbortError" || (err instanceof Error && err.message === "Aborted"));
}
