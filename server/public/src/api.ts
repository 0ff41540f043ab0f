import { SseParser } from "./sse-parser.ts";
import type { AskResult, ChatTurn, Source } from "./types.ts";

export const UNREACHABLE = "Cannot reach the server. Check that it is running, then try again.";

export type ApiErrorKind = "network" | "http" | "stream" | "aborted";

/** Anything that went wrong talking to the server, with what to show: `message`, and `code` when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === "AbortError";

/** fetch, with network failures and aborts turned into ApiErrors. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(path, { ...init, credentials: "same-origin", cache: "no-store" });
  } catch (err) {
    if (isAbort(err) || init.signal?.aborted) throw new ApiError("aborted", "Stopped.");
    throw new ApiError("network", UNREACHABLE);
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

/** The API's `{"error": {"code", "message"}}`, or a plain description when the body is something else. */
export async function errorFrom(res: Response): Promise<ApiError> {
  let body: ErrorBody | undefined;
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  const message = typeof e?.message === "string" && e.message ? e.message : `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ""}.`;
  return new ApiError("http", message, res.status, typeof e?.code === "string" ? e.code : undefined);
}

export async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await request(path, { ...init, headers: { accept: "application/json", ...init.headers } });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as T;
}

export async function sendJson<T>(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; form?: FormData } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.form) body = opts.form;
  else if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const res = await request(path, { method, headers, ...(body === undefined ? {} : { body }) });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as T;
}

export interface AskRequest {
  question: string;
  history: ChatTurn[];
}

export interface AskHandlers {
  onSources(sources: Source[]): void;
  onToken(text: string): void;
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new ApiError("stream", "The server sent a malformed event; try again.");
  }
}

/**
 * POST /ask with `stream: true`, read as Server-Sent Events over fetch (EventSource cannot POST): `sources`, `token`…,
 * then `done` (resolves with the full answer) or `error` (rejects with the server's message and code).
 */
export async function askStream(req: AskRequest, handlers: AskHandlers, signal: AbortSignal): Promise<AskResult> {
  const res = await request("/ask", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ question: req.question, history: req.history, stream: true }),
    signal,
  });
  if (!res.ok) throw await errorFrom(res);
  if ((res.headers.get("content-type") ?? "").includes("application/json")) return (await res.json()) as AskResult;
  if (!res.body) throw new ApiError("stream", "The server's answer had no body.");

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  let result: AskResult | undefined;
  const handle = (event: string, data: string): void => {
    if (event === "sources") handlers.onSources(((parseData(data) as { sources?: Source[] }).sources ?? []) as Source[]);
    else if (event === "token") {
      const text = (parseData(data) as { text?: unknown }).text;
      if (typeof text === "string") handlers.onToken(text);
    } else if (event === "done") result = parseData(data) as AskResult;
    else if (event === "error") {
      const e = (parseData(data) as ErrorBody).error;
      const message = typeof e?.message === "string" ? e.message : "The answer failed on the server.";
      throw new ApiError("stream", message, undefined, typeof e?.code === "string" ? e.code : undefined);
    }
  };
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal.aborted || isAbort(err)) throw new ApiError("aborted", "Stopped.");
        throw new ApiError("network", "The connection to the server was lost while the answer was arriving.");
      }
      const events = chunk.done ? parser.end() : parser.push(chunk.value);
      for (const e of events) handle(e.event, e.data);
      if (chunk.done || result) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (!result) throw new ApiError("stream", "The answer stream ended before the answer was complete. Try again.");
  return result;
}
