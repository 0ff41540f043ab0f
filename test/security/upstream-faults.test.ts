import { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_ANSWER_CHARS } from "../../src/answer/answer-service.ts";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { type FakeOpenAI, type FakeOpenAIOptions, type Fault, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { readSse } from "../helpers/sse-client.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { eventually, type Json, postJson, sleep } from "./security-helpers.ts";

/**
 * SECURITY-TESTS 22–24 against the loopback fake, on every answer endpoint and in every response style (/ask JSON,
 * /ask SSE, /v1 JSON, /v1 stream): a hanging, refusing, rate-limiting or garbled upstream ends in a 502/504 — or, once
 * a stream has started, a final error event — within LLM_TIMEOUT_MS plus retry waits, with the request id of the
 * response and no key; retries happen in one layer and are bounded; a stream is capped in size and time. A client that
 * goes away cancels the upstream request (seen from the fake's side of the connection), nothing is written after the
 * response ended, and no timer outlives its request.
 */

const KEY = "sk-upstream-faults-SECRET-4e1b";
const QUESTION = "星河-7B 的上下文长度是多少？";
const ANSWER = "星河-7B 支持 8192 的上下文长度 [1]。";

const ws = tempWorkspace(FIXTURE_CORPUS);
let kb: KnowledgeBase;

/** Writes to a response that already ended or whose socket is gone, anywhere in this process (the app runs here). */
const lateWrites: string[] = [];
const originalWrite = ServerResponse.prototype.write;
const originalEnd = ServerResponse.prototype.end;

beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
    if (this.writableEnded) lateWrites.push(`write after end: ${String(args[0]).slice(0, 80)}`);
    return (originalWrite as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof ServerResponse.prototype.write;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
    if (this.writableEnded && args.length > 0 && typeof args[0] !== "function") lateWrites.push("end with data after end");
    return (originalEnd as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof ServerResponse.prototype.end;
});
afterAll(() => {
  ServerResponse.prototype.write = originalWrite;
  ServerResponse.prototype.end = originalEnd;
  ws.cleanup();
});

type Http = Awaited<ReturnType<typeof serveApp>>;

async function withUpstream(
  env: Record<string, string>,
  fakeOpts: FakeOpenAIOptions,
  run: (ctx: { http: Http; upstream: FakeOpenAI; chats: () => number }) => Promise<void>,
): Promise<void> {
  const upstream = await startFakeOpenAI({ chatReply: () => ANSWER, ...fakeOpts });
  const http = await serveApp(
    testConfig(ws.docsDir, ws.storeDir, { LLM_PROVIDER: "openai", LLM_BASE_URL: upstream.url, LLM_API_KEY: KEY, LLM_MAX_RETRIES: "1", ...env }),
    kb,
  );
  try {
    await run({ http, upstream, chats: () => upstream.requests.filter((r) => r.route === "chat").length });
  } finally {
    await http.close();
    await upstream.close();
  }
}

type Style = "ask-json" | "ask-sse" | "v1-json" | "v1-stream";
const STYLES: Style[] = ["ask-json", "ask-sse", "v1-json", "v1-stream"];

/** The outcome of one request, normalised across the four styles. */
interface Outcome {
  /** HTTP status for JSON styles; 200 for streams (the error comes in the stream). */
  status: number;
  /** The error object the client finally got, or undefined when the answer completed. */
  error: Json | undefined;
  requestIdHeader: string | null;
  /** Everything the client received, for leak checks. */
  raw: string;
  /** Answer text the client assembled (tokens / deltas / message). */
  text: string;
  ms: number;
}

async function request(url: string, style: Style, signal?: AbortSignal): Promise<Outcome> {
  const t0 = performance.now();
  const ask = style.startsWith("ask");
  const stream = style === "ask-sse" || style === "v1-stream";
  const res = ask
    ? await postJson(url, "/ask", { question: QUESTION, ...(stream ? { stream: true } : {}) }, {}, signal)
    : await postJson(
        url,
        "/v1/chat/completions",
        { model: "kb", messages: [{ role: "user", content: QUESTION }], ...(stream ? { stream: true } : {}) },
        {},
        signal,
      );
  const requestIdHeader = res.headers.get("x-request-id");
  if (!stream) {
    const raw = await res.text();
    const body = JSON.parse(raw) as Json;
    const text = ask ? (body.answer ?? "") : (body.choices?.[0]?.message?.content ?? "");
    return { status: res.status, error: body.error, requestIdHeader, raw, text, ms: performance.now() - t0 };
  }
  if (style === "ask-sse") {
    const events = await readSse(res);
    const last = events.at(-1);
    const text = events
      .filter((e) => e.event === "token")
      .map((e) => (e.data as Json).text)
      .join("");
    return {
      status: res.status,
      error: last?.event === "error" ? (last.data as Json).error : last?.event === "done" ? undefined : { code: "NO_FINAL_EVENT" },
      requestIdHeader,
      raw: JSON.stringify(events),
      text,
      ms: performance.now() - t0,
    };
  }
  const raw = await res.text();
  const data = raw
    .split("\n\n")
    .map((b) => b.trim())
    .filter((b) => b.startsWith("data: "))
    .map((b) => b.slice(6));
  const chunks = data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Json);
  const errorChunk = chunks.find((c) => c.error);
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
  return {
    status: res.status,
    error: errorChunk ? errorChunk.error : data.at(-1) === "[DONE]" ? undefined : { code: "NO_DONE" },
    requestIdHeader,
    raw,
    text,
    ms: performance.now() - t0,
  };
}

/** A failure as the documented error: its code, the response's request id, no key or upstream body. */
function expectFailure(o: Outcome, style: Style, code: string): void {
  const streamed = style === "ask-sse" || style === "v1-stream";
  expect(o.status).toBe(streamed ? 200 : code === "UPSTREAM_TIMEOUT" ? 504 : 502);
  expect(o.error?.code).toBe(code);
  expect(typeof o.error?.message).toBe("string");
  expect(o.error?.requestId).toBeTruthy();
  expect(o.error?.requestId).toBe(o.requestIdHeader);
  if (style.startsWith("v1")) expect(o.error?.type).toBe("server_error");
  expect(o.raw).not.toContain(KEY);
  expect(o.raw).not.toMatch(/SECRET|<html|upstream body|at .*\.ts:\d+/i);
  // A stream that failed never claims to be complete.
  if (style === "v1-stream") expect(o.raw).not.toContain("data: [DONE]");
  if (style === "ask-sse") expect(o.raw).not.toContain('"event":"done"');
}

const SHORT = 1500;
const RETRYING = 5000;
const echo = `Incorrect API key provided: ${KEY}. SECRET upstream body`;

interface FaultCase {
  name: string;
  fault: Fault;
  timeoutMs: number;
  code: string | null;
  /** Upstream chat requests expected: attempts including retries. */
  attempts?: number;
  /** Upper bound on how long the client waits. */
  withinMs: number;
  /** Lower bound (retry waits, deadlines). */
  atLeastMs?: number;
  aborted?: boolean;
}

const CASES: FaultCase[] = [
  {
    name: "hang (no response at all)",
    fault: { kind: "hang" },
    timeoutMs: SHORT,
    code: "UPSTREAM_TIMEOUT",
    withinMs: SHORT + 1200,
    atLeastMs: SHORT - 100,
    aborted: true,
  },
  { name: "headers, then no body", fault: { kind: "hang-after-headers" }, timeoutMs: SHORT, code: "UPSTREAM_TIMEOUT", withinMs: SHORT + 1200, aborted: true },
  {
    name: "429 with Retry-After: 1, every time",
    fault: { kind: "status", status: 429, headers: { "retry-after": "1" }, body: { error: { message: echo, type: "rate_limit" } } },
    timeoutMs: RETRYING,
    code: "UPSTREAM_RATE_LIMITED",
    attempts: 2,
    atLeastMs: 950,
    withinMs: 4000,
  },
  {
    name: "429 with Retry-After: 3600 (not waited out: fails at once)",
    fault: { kind: "status", status: 429, headers: { "retry-after": "3600" }, body: { error: { message: echo, type: "rate_limit" } } },
    timeoutMs: RETRYING,
    code: "UPSTREAM_RATE_LIMITED",
    attempts: 1,
    withinMs: 1000,
  },
  {
    name: "500, every time",
    fault: { kind: "status", status: 500, body: { error: { message: echo, type: "server_error" } } },
    timeoutMs: RETRYING,
    code: "UPSTREAM_ERROR",
    attempts: 2,
    withinMs: 4500,
  },
  {
    name: "401 (not retried)",
    fault: { kind: "status", status: 401, body: { error: { message: echo, type: "invalid_request_error", code: "invalid_api_key" } } },
    timeoutMs: RETRYING,
    code: "UPSTREAM_AUTH",
    attempts: 1,
    withinMs: 1000,
  },
  {
    name: "a proxy's HTML 502 page",
    fault: { kind: "status", status: 502, contentType: "text/html", body: `<html><body><h1>502 Bad Gateway</h1>${echo}</body></html>` },
    timeoutMs: RETRYING,
    code: "UPSTREAM_ERROR",
    attempts: 2,
    withinMs: 4500,
  },
  {
    name: "a 200 HTML login page",
    fault: { kind: "status", status: 200, contentType: "text/html", body: `<html><body>Please log in. ${echo}</body></html>` },
    timeoutMs: SHORT,
    code: "UPSTREAM_BAD_RESPONSE",
    withinMs: 1000,
  },
  {
    name: "a 200 with a non-JSON body",
    fault: { kind: "status", status: 200, contentType: "application/json", body: `{not json ${echo}` },
    timeoutMs: SHORT,
    code: "UPSTREAM_BAD_RESPONSE",
    withinMs: 1000,
  },
  { name: "two JSON objects on one data: line", fault: { kind: "sse-two-json-one-line" }, timeoutMs: SHORT, code: "UPSTREAM_BAD_RESPONSE", withinMs: 1000 },
  { name: "a truncated final chunk", fault: { kind: "sse-truncated" }, timeoutMs: SHORT, code: "UPSTREAM_BAD_RESPONSE", withinMs: 1000 },
  {
    name: "a stream that never ends",
    fault: { kind: "sse-never-ends" },
    timeoutMs: SHORT,
    code: "UPSTREAM_TIMEOUT",
    withinMs: SHORT + 1200,
    atLeastMs: SHORT - 100,
    aborted: true,
  },
  { name: "a chunk split across network writes (valid)", fault: { kind: "sse-split-chunk" }, timeoutMs: SHORT, code: null, withinMs: 1500 },
  { name: "no [DONE] at the end (tolerated)", fault: { kind: "sse-no-done" }, timeoutMs: SHORT, code: null, withinMs: 1500 },
];

describe.concurrent("SECURITY-TESTS 22–23: every upstream fault, on every endpoint and response style", () => {
  for (const c of CASES) {
    for (const style of STYLES) {
      it(`${c.name} → ${style}: ${c.code ?? "a complete answer"}`, () =>
        withUpstream({ LLM_TIMEOUT_MS: String(c.timeoutMs) }, {}, async ({ http, upstream, chats }) => {
          upstream.setFault("chat", c.fault);
          const o = await request(http.url, style);
          if (c.code) expectFailure(o, style, c.code);
          else {
            expect(o.error).toBeUndefined();
            expect(o.text).toBe(ANSWER);
          }
          expect(o.ms).toBeLessThan(c.withinMs);
          if (c.atLeastMs) expect(o.ms).toBeGreaterThanOrEqual(c.atLeastMs);
          if (c.attempts !== undefined) expect(chats()).toBe(c.attempts);
          if (c.aborted) expect((await upstream.waitForAbort(1000)).route).toBe("chat");
          // The failure left nothing stuck: with the fault gone, the same app answers.
          upstream.setFault("chat", null);
          const again = await request(http.url, style);
          expect(again.error).toBeUndefined();
          expect(again.text).toBe(ANSWER);
        }));
    }
  }

  it("a 429 that clears after one retry succeeds after waiting Retry-After (one retry layer: two requests, not more)", () =>
    withUpstream({ LLM_TIMEOUT_MS: String(RETRYING), LLM_MAX_RETRIES: "3" }, {}, async ({ http, upstream, chats }) => {
      upstream.setFault("chat", { kind: "status", status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down" } }, times: 1 });
      const o = await request(http.url, "v1-json");
      expect(o.error).toBeUndefined();
      expect(o.text).toBe(ANSWER);
      expect(o.ms).toBeGreaterThanOrEqual(950);
      expect(chats()).toBe(2);
    }));

  it("LLM_MAX_RETRIES=0: a 500 is tried exactly once", () =>
    withUpstream({ LLM_TIMEOUT_MS: String(RETRYING), LLM_MAX_RETRIES: "0" }, {}, async ({ http, upstream, chats }) => {
      upstream.setFault("chat", { kind: "status", status: 500, body: { error: { message: "boom" } } });
      expectFailure(await request(http.url, "ask-json"), "ask-json", "UPSTREAM_ERROR");
      expect(chats()).toBe(1);
    }));

  for (const style of STYLES) {
    it(`an endless stream of tokens is cut at ${MAX_ANSWER_CHARS} characters (${style}): a bad-response error long before the deadline, upstream cancelled`, () =>
      withUpstream(
        { LLM_TIMEOUT_MS: "20000" },
        // 100 characters every 2 ms, 60,000 in all: the cap is reached after ~200 tokens, well before the stream ends.
        { tokenDelayMs: 2, chatReply: () => ({ content: "x".repeat(60_000), tokens: Array.from({ length: 600 }, () => "星".repeat(100)) }) },
        async ({ http, upstream }) => {
          const o = await request(http.url, style);
          expectFailure(o, style, "UPSTREAM_BAD_RESPONSE");
          expect(o.ms).toBeLessThan(5000);
          expect(o.text.length).toBeLessThanOrEqual(MAX_ANSWER_CHARS);
          expect((await upstream.waitForAbort(2000)).route).toBe("chat");
        },
      ));
  }
});

describe("structured logs: a garbled upstream writes nothing outside the JSON log", () => {
  it("the OpenAI SDK's own console output is off (its errors reach the log as one JSON line, with the request id)", () =>
    withUpstream({ LLM_TIMEOUT_MS: String(SHORT) }, {}, async ({ http, upstream }) => {
      const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m).mockImplementation(() => undefined));
      try {
        for (const kind of ["sse-two-json-one-line", "sse-truncated"] as const) {
          upstream.setFault("chat", { kind });
          expect((await request(http.url, "ask-json")).error?.code).toBe("UPSTREAM_BAD_RESPONSE");
          expect((await request(http.url, "v1-stream")).error?.code).toBe("UPSTREAM_BAD_RESPONSE");
        }
        for (const spy of spies) expect(spy.mock.calls).toEqual([]);
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      const errors = http.logs.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
      expect(errors).toHaveLength(4);
      for (const e of errors) expect(e.requestId).toMatch(/^[\w-]+$/);
    }));
});

describe("SECURITY-TESTS 24: a client that disconnects mid-answer cancels the upstream request", () => {
  for (const style of STYLES) {
    it(`${style}: the fake sees its connection closed; the app logs no error and answers the next question`, () =>
      withUpstream({ LLM_TIMEOUT_MS: "30000" }, { tokenDelayMs: 40 }, async ({ http, upstream }) => {
        upstream.setFault("chat", { kind: "sse-never-ends", times: 1 });
        const controller = new AbortController();
        const pending = request(http.url, style, controller.signal).catch((err: unknown) => err);
        // Wait until the upstream request is in flight, then hang up.
        expect(await eventually(() => upstream.requests.some((r) => r.route === "chat"), 5000)).toBe(true);
        await sleep(100);
        controller.abort();
        expect(await pending).toBeInstanceOf(Error);
        const aborted = await upstream.waitForAbort(2000);
        expect(aborted.route).toBe("chat");
        const next = await request(http.url, style);
        expect(next.error).toBeUndefined();
        expect(http.logs.filter((l) => /"level":"error"/.test(l))).toEqual([]);
      }));
  }
});

/**
 * Timers created in this process while the block runs (the app is in-process). setTimeout/setInterval are wrapped at
 * call time, so every timer the server code, LangChain and the OpenAI SDK create goes through here; undici's own
 * connection timers and the test's helpers are left out by their creation stack.
 */
function trackTimers() {
  const live = new Map<unknown, { kind: "timeout" | "interval"; ms: number; stack: string }>();
  const real = {
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    clearTimeout: globalThis.clearTimeout,
    clearInterval: globalThis.clearInterval,
  };
  const relevant = (stack: string) => !/undici|\/test\/(helpers|security)\//.test(stack.split("\n").slice(2).join("\n"));
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const stack = new Error().stack ?? "";
    const t = real.setTimeout(
      (...a: unknown[]) => {
        live.delete(t);
        fn(...a);
      },
      ms,
      ...args,
    );
    if (relevant(stack)) live.set(t, { kind: "timeout", ms: ms ?? 0, stack });
    return t;
  }) as typeof setTimeout;
  globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const stack = new Error().stack ?? "";
    const t = real.setInterval(fn, ms, ...args);
    if (relevant(stack)) live.set(t, { kind: "interval", ms: ms ?? 0, stack });
    return t;
  }) as typeof setInterval;
  const clear = (t: unknown) => {
    live.delete(t);
    real.clearTimeout(t as NodeJS.Timeout);
  };
  globalThis.clearTimeout = clear as typeof clearTimeout;
  globalThis.clearInterval = clear as typeof clearInterval;
  return {
    /** Intervals still running, and timeouts of a second or more still pending. */
    leaked: () => [...live.values()].filter((t) => t.kind === "interval" || t.ms >= 1000),
    restore: () => Object.assign(globalThis, real),
  };
}

const timeoutsInfo = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("SECURITY-TESTS 24: no timer outlives a burst of aborted and failed streams", () => {
  it("after 24 streams cut off by their clients and 8 failed upstream streams, no interval or long timeout is left", () =>
    withUpstream({ LLM_TIMEOUT_MS: "30000", LLM_MAX_RETRIES: "0" }, { tokenDelayMs: 25 }, async ({ http, upstream }) => {
      // Warm up (first requests load lazy modules and open keep-alive connections), then take the baseline.
      expect((await request(http.url, "ask-sse")).error).toBeUndefined();
      await sleep(200);
      const baseline = timeoutsInfo();
      const timers = trackTimers();
      try {
        upstream.setFault("chat", { kind: "sse-never-ends" });
        // Each client reads until the first answer token has arrived (so the upstream stream is open), then hangs up.
        const cutOff = Array.from({ length: 24 }, async (_, i) => {
          const controller = new AbortController();
          const res =
            i % 2 === 0
              ? await postJson(http.url, "/ask", { question: QUESTION, stream: true }, {}, controller.signal)
              : await postJson(http.url, "/v1/chat/completions", { stream: true, messages: [{ role: "user", content: QUESTION }] }, {}, controller.signal);
          const reader = res.body!.getReader();
          const decoder = new TextDecoder();
          let seen = "";
          while (!/event: token|"content":"[^"]/.test(seen)) {
            const { done, value } = await reader.read();
            if (done) break;
            seen += decoder.decode(value, { stream: true });
          }
          controller.abort();
        });
        await Promise.all(cutOff);
        const burst = () => upstream.requests.filter((r) => r.route === "chat").slice(1);
        await eventually(() => burst().every((r) => r.aborted), 3000);
        expect(burst()).toHaveLength(24);
        expect(burst().filter((r) => !r.aborted)).toEqual([]);

        upstream.setFault("chat", { kind: "sse-truncated" });
        const failed = await Promise.all(Array.from({ length: 8 }, (_, i) => request(http.url, i % 2 === 0 ? "ask-sse" : "v1-stream")));
        for (const o of failed) expect(o.error?.code).toBe("UPSTREAM_BAD_RESPONSE");

        // Everything the requests started is stopped within a short wait.
        const clean = await eventually(() => timers.leaked().length === 0 && timeoutsInfo() <= baseline, 2000, 50);
        if (!clean) expect(timers.leaked().map((t) => `${t.kind} ${t.ms} ms\n${t.stack}`)).toEqual([]);
        expect(timeoutsInfo()).toBeLessThanOrEqual(baseline);
      } finally {
        timers.restore();
      }
      expect(lateWrites).toEqual([]);
    }));
});

describe("no write after end", () => {
  it("no response in this file was written to after it ended", () => {
    expect(lateWrites).toEqual([]);
  });
});
