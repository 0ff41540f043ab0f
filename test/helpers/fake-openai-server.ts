import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A loopback server that speaks the OpenAI wire protocol (embeddings, chat completions with SSE, models) so provider
 * code can be tested through the real SDK stack with no network. Routes match on the path suffix, so every preset's
 * base path (`/v1`, `/api/paas/v4`, `/compatible-mode/v1`) reaches the same handlers. Every request is recorded, and
 * faults can be injected per route to exercise the error paths real providers produce.
 */

export type FakeRoute = "embeddings" | "chat" | "models";

export interface RecordedRequest {
  route: FakeRoute | "unknown";
  method: string;
  path: string;
  /** Lower-cased header names, as node:http gives them (`authorization`, `content-type`…). */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; `undefined` when there was none or it was not JSON. */
  body: unknown;
  rawBody: string;
  /** The client closed the connection before the response was complete (abort, timeout, disconnect). */
  aborted: boolean;
}

/** What a fault does; `times` limits it to the next N requests on the route (default: until reset/cleared). */
export type FaultSpec =
  /** Any status, any body: 401 JSON errors, 429 + Retry-After, 500, HTML error pages, non-JSON 200s. */
  | { kind: "status"; status: number; body?: string | object; contentType?: string; headers?: Record<string, string> }
  /** Never answer: the request stays open until the client gives up. */
  | { kind: "hang" }
  /** Send 200 headers, then never send the body. */
  | { kind: "hang-after-headers" }
  /** Embeddings: return `delta` more (or fewer, if negative) vectors than inputs. */
  | { kind: "wrong-count"; delta: number }
  /** Embeddings: the vector at `index` (default 0) has `length` numbers. */
  | { kind: "wrong-length"; length: number; index?: number }
  /** Embeddings: put `value` at position 0 of the vector at `index`. JSON has no NaN: use null, "NaN" or 1e39. */
  | { kind: "bad-value"; value: unknown; index?: number }
  /** Chat SSE: one chunk's bytes are split across two writes (valid SSE; a client must reassemble). */
  | { kind: "sse-split-chunk" }
  /** Chat SSE: two JSON objects on one `data:` line. */
  | { kind: "sse-two-json-one-line" }
  /** Chat SSE: everything except the final `data: [DONE]`. */
  | { kind: "sse-no-done" }
  /** Chat SSE: the stream ends in the middle of the final chunk's JSON. */
  | { kind: "sse-truncated" }
  /** Chat SSE: a few content chunks, then the connection stays open forever. */
  | { kind: "sse-never-ends" };

export type Fault = FaultSpec & { times?: number };

export interface ChatReply {
  content: string;
  /** How the content is cut into stream deltas; default: words and single CJK characters. */
  tokens?: string[];
}

export interface FakeOpenAIOptions {
  /** Vector length when the request does not ask for `dimensions`. Default 8. */
  dimensions?: number;
  /** The assistant's reply; receives the recorded request (its body has `messages`). Default: a fixed sentence. */
  chatReply?: (request: RecordedRequest) => string | ChatReply;
  /** Delay between streamed deltas. Default 0. */
  tokenDelayMs?: number;
  /**
   * Chat SSE: delay after the first write (the role chunk), i.e. before the first content token, when it should differ
   * from `tokenDelayMs` — a model's "time to first token". Default: `tokenDelayMs`.
   */
  firstTokenDelayMs?: number;
  /** Ids listed by GET …/models. */
  models?: string[];
}

export interface FakeOpenAI {
  /** Base URL with the conventional `/v1` prefix, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`, for building other base paths (`${origin}/api/paas/v4`). */
  readonly origin: string;
  readonly requests: readonly RecordedRequest[];
  setFault(route: FakeRoute, fault: Fault | null): void;
  /** Forget recorded requests and faults. */
  reset(): void;
  /** Resolves with the first request (recorded so far or later) whose client disconnected before the response ended. */
  waitForAbort(timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const DEFAULT_REPLY = "This is a reply from the fake OpenAI-compatible server.";

/** FNV-1a 32-bit; seeds the per-text generator so vectors are stable across runs and platforms. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The vector the fake returns for `text`: deterministic, unit length. Tests compare against it. */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  let state = fnv1a(text) || 1;
  const v: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    v.push(((state >>> 0) / 0xffffffff) * 2 - 1);
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  // Rounded through float32 so a client's Float32Array holds exactly these values.
  return v.map((x) => Math.fround(x / norm));
}

function toBase64Float32(v: number[]): string {
  const buf = Buffer.alloc(v.length * 4);
  for (const [i, x] of v.entries()) buf.writeFloatLE(x, i * 4);
  return buf.toString("base64");
}

function splitTokens(text: string): string[] {
  return text.match(/[\u3400-\u9fff\uf900-\ufaff]|\s*[^\s\u3400-\u9fff\uf900-\ufaff]+|\s+/g) ?? [];
}

function routeOf(method: string, path: string): FakeRoute | "unknown" {
  if (method === "POST" && path.endsWith("/embeddings")) return "embeddings";
  if (method === "POST" && path.endsWith("/chat/completions")) return "chat";
  if (method === "GET" && path.endsWith("/models")) return "models";
  return "unknown";
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function apiError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { message, type: "invalid_request_error", param: null, code: null } });
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const defaultDimensions = opts.dimensions ?? 8;
  const requests: RecordedRequest[] = [];
  const faults = new Map<FakeRoute, Fault>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const events = new EventEmitter();

  /** Takes the route's fault for this request, counting down `times`. */
  function takeFault(route: FakeRoute): FaultSpec | undefined {
    const fault = faults.get(route);
    if (!fault) return undefined;
    if (fault.times !== undefined) {
      if (fault.times <= 1) faults.delete(route);
      else faults.set(route, { ...fault, times: fault.times - 1 });
    }
    return fault;
  }

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function handleEmbeddings(rec: RecordedRequest, res: ServerResponse, fault: FaultSpec | undefined): void {
    const body = (rec.body ?? {}) as { input?: unknown; model?: unknown; dimensions?: unknown; encoding_format?: unknown };
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    if (!Array.isArray(inputs) || !inputs.every((x): x is string => typeof x === "string")) {
      apiError(res, 400, "input must be a string or an array of strings");
      return;
    }
    const dims = typeof body.dimensions === "number" ? body.dimensions : defaultDimensions;
    const vectors: unknown[][] = inputs.map((t) => fakeEmbedding(t, dims));
    if (fault?.kind === "wrong-count") {
      if (fault.delta < 0) vectors.splice(vectors.length + fault.delta);
      for (let i = 0; i < fault.delta; i++) vectors.push(fakeEmbedding(`extra ${i}`, dims));
    }
    if (fault?.kind === "wrong-length") {
      const i = fault.index ?? 0;
      if (vectors[i]) vectors[i] = fakeEmbedding(inputs[i] ?? "", fault.length);
    }
    if (fault?.kind === "bad-value") {
      const v = vectors[fault.index ?? 0];
      if (v) v[0] = fault.value;
    }
    const base64 = body.encoding_format === "base64";
    sendJson(res, 200, {
      object: "list",
      data: vectors.map((v, index) => ({
        object: "embedding",
        index,
        // Base64 can only carry numbers; bad-value faults therefore only make sense with float responses.
        embedding: base64 ? toBase64Float32(v.map(Number)) : v,
      })),
      model: typeof body.model === "string" ? body.model : "fake-embedding",
      usage: { prompt_tokens: inputs.join("").length, total_tokens: inputs.join("").length },
    });
  }

  function handleChat(rec: RecordedRequest, res: ServerResponse, fault: FaultSpec | undefined): void {
    const body = (rec.body ?? {}) as { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
    const model = typeof body.model === "string" ? body.model : "fake-chat";
    const produced = opts.chatReply?.(rec) ?? DEFAULT_REPLY;
    const reply: ChatReply = typeof produced === "string" ? { content: produced } : produced;
    const tokens = reply.tokens ?? splitTokens(reply.content);
    const id = `chatcmpl-fake-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: 10, completion_tokens: tokens.length, total_tokens: 10 + tokens.length };

    if (body.stream !== true) {
      sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: reply.content, refusal: null }, logprobs: null, finish_reason: "stop" }],
        usage,
      });
      return;
    }

    const chunk = (delta: object, finish: string | null) =>
      JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    const lines: string[] = [chunk({ role: "assistant", content: "" }, null), ...tokens.map((t) => chunk({ content: t }, null)), chunk({}, "stop")];
    if (body.stream_options?.include_usage === true) {
      lines.push(JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage }));
    }

    // Each element is one write; the SSE framing of the faults lives here.
    let writes: string[] = lines.map((l) => `data: ${l}\n\n`);
    let end = true;
    let pauseAfter = -1;
    switch (fault?.kind) {
      case "sse-split-chunk": {
        pauseAfter = writes.length > 1 ? 1 : 0;
        const first = writes[pauseAfter] ?? "";
        const cut = Math.floor(first.length / 2);
        writes.splice(pauseAfter, 1, first.slice(0, cut), first.slice(cut));
        writes.push("data: [DONE]\n\n");
        break;
      }
      case "sse-two-json-one-line": {
        const [a, b, ...rest] = lines;
        writes = [`data: ${a ?? ""}${b ?? ""}\n\n`, ...rest.map((l) => `data: ${l}\n\n`), "data: [DONE]\n\n"];
        break;
      }
      case "sse-no-done":
        break;
      case "sse-truncated": {
        const last = writes.pop() ?? "";
        writes.push(last.slice(0, Math.max(8, Math.floor(last.length / 2))));
        break;
      }
      case "sse-never-ends":
        writes = writes.slice(0, 3);
        end = false;
        break;
      default:
        writes.push("data: [DONE]\n\n");
    }

    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    const delay = opts.tokenDelayMs ?? 0;
    const step = (i: number): void => {
      if (res.destroyed || res.writableEnded) return;
      const w = writes[i];
      if (w === undefined) {
        if (end) res.end();
        return;
      }
      res.write(w);
      // A split chunk always gets a pause so its halves reach the client as separate reads.
      const wait = i === pauseAfter ? Math.max(delay, 20) : i === 0 ? (opts.firstTokenDelayMs ?? delay) : delay;
      if (wait > 0) later(wait, () => step(i + 1));
      else setImmediate(() => step(i + 1));
    };
    step(0);
  }

  function handleFault(res: ServerResponse, fault: FaultSpec): boolean {
    switch (fault.kind) {
      case "status": {
        const isText = typeof fault.body === "string";
        const contentType = fault.contentType ?? (isText ? "text/plain" : "application/json");
        res.writeHead(fault.status, { "content-type": contentType, ...fault.headers });
        res.end(isText ? fault.body : JSON.stringify(fault.body ?? { error: { message: `fault ${fault.status}`, type: "server_error" } }));
        return true;
      }
      case "hang":
        return true;
      case "hang-after-headers":
        res.writeHead(200, { "content-type": "application/json" });
        res.flushHeaders();
        return true;
      default:
        return false;
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const method = req.method ?? "GET";
      const path = new URL(req.url ?? "/", "http://fake").pathname.replace(/\/+$/, "");
      const rawBody = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const rec: RecordedRequest = { route: routeOf(method, path), method, path, headers: { ...req.headers }, body, rawBody, aborted: false };
      requests.push(rec);
      // `close` before the response finished means the client went away (abort, timeout, dropped connection).
      res.on("close", () => {
        if (!res.writableFinished) {
          rec.aborted = true;
          events.emit("abort", rec);
        }
      });

      if (rec.route === "unknown") {
        apiError(res, 404, `no route for ${method} ${path}`);
        return;
      }
      if (rawBody && body === undefined) {
        apiError(res, 400, "body is not valid JSON");
        return;
      }
      const fault = takeFault(rec.route);
      if (fault && handleFault(res, fault)) return;
      if (rec.route === "embeddings") handleEmbeddings(rec, res, fault);
      else if (rec.route === "chat") handleChat(rec, res, fault);
      else {
        const created = Math.floor(Date.now() / 1000);
        const ids = opts.models ?? ["fake-chat", "fake-embedding"];
        sendJson(res, 200, { object: "list", data: ids.map((id) => ({ id, object: "model", created, owned_by: "fake" })) });
      }
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/v1`,
    origin,
    requests,
    setFault(route, fault) {
      if (fault) faults.set(route, fault);
      else faults.delete(route);
    },
    reset() {
      requests.length = 0;
      faults.clear();
    },
    waitForAbort(timeoutMs = 2000) {
      const seen = requests.find((r) => r.aborted);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const onAbort = (r: RecordedRequest) => {
          clearTimeout(timer);
          resolve(r);
        };
        const timer = setTimeout(() => {
          events.off("abort", onAbort);
          reject(new Error(`no client disconnect within ${timeoutMs} ms`));
        }, timeoutMs);
        events.once("abort", onAbort);
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hanging and streaming responses keep sockets open; close() alone would wait for them forever.
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
