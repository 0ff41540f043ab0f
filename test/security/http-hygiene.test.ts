import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnswerService } from "../../src/answer/create-answer-service.ts";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { createApp } from "../../server/create-app.ts";
import { applyServerLimits } from "../../server/http-server-limits.ts";
import { createLogger } from "../../server/logger.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { readSse } from "../helpers/sse-client.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/** SECURITY-TESTS 13 (no CORS grant), 25 (idle/slow connections, caps) and the hardening issue's rate limiting. */

const QUESTION = "星河-7B 的上下文长度是多少？";
const ws = tempWorkspace(FIXTURE_CORPUS);
let kb: KnowledgeBase;
let fake: FakeOpenAI;

beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  // Slow enough that a stream is still running while the test does other things.
  fake = await startFakeOpenAI({ tokenDelayMs: 40, chatReply: () => `星河-7B 的上下文长度是 8192 [1]。${"它是一个开源模型。".repeat(30)}` });
});
afterAll(async () => {
  await fake?.close();
  ws.cleanup();
});

const post = (url: string, path: string, body: object, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

describe("rate limiting of the answer endpoints (a burst from one client cannot starve the rest)", () => {
  it("answers 429 RATE_LIMITED with Retry-After past the per-minute limit, per client, on /ask and /v1/chat/completions", async () => {
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { RATE_LIMIT_PER_MIN: "3", TRUST_PROXY: "loopback" }), kb);
    try {
      const a = { "x-forwarded-for": "203.0.113.10" };
      for (let i = 0; i < 3; i++) expect((await post(http.url, "/ask", { question: QUESTION }, a)).status).toBe(200);
      const limited = await post(http.url, "/ask", { question: QUESTION }, a);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      const body = (await limited.json()) as { error: { code: string; message: string; requestId?: string } };
      expect(body.error.code).toBe("RATE_LIMITED");
      expect(body.error.requestId).toBeTruthy();
      // The same client on the OpenAI-compatible endpoint shares the budget.
      const chat = await post(http.url, "/v1/chat/completions", { model: "kb", messages: [{ role: "user", content: QUESTION }] }, a);
      expect(chat.status).toBe(429);
      // Another client is unaffected; retrieval-only and health endpoints are not limited.
      expect((await post(http.url, "/ask", { question: QUESTION }, { "x-forwarded-for": "203.0.113.11" })).status).toBe(200);
      expect((await post(http.url, "/search", { query: QUESTION }, a)).status).toBe(200);
      expect((await fetch(`${http.url}/health`, { headers: a })).status).toBe(200);
    } finally {
      await http.close();
    }
  });

  it("a spoofed X-Forwarded-For does not reset the limit when no proxy is trusted", async () => {
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { RATE_LIMIT_PER_MIN: "2" }), kb);
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await post(http.url, "/ask", { question: QUESTION }, { "x-forwarded-for": `198.51.100.${i}` })).status);
      expect(codes).toEqual([200, 200, 429, 429]);
    } finally {
      await http.close();
    }
  });

  it("RATE_LIMIT_PER_MIN=0 disables the limit", async () => {
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { RATE_LIMIT_PER_MIN: "0" }), kb);
    try {
      const codes = await Promise.all(Array.from({ length: 8 }, () => post(http.url, "/ask", { question: QUESTION }).then((r) => r.status)));
      expect(new Set(codes)).toEqual(new Set([200]));
    } finally {
      await http.close();
    }
  });
});

describe("CORS: no grant to foreign origins", () => {
  it("sends no Access-Control-Allow-Origin without CORS_ORIGINS, for simple requests and preflights", async () => {
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: "t0ken-cors-test" }), kb);
    try {
      const evil = { origin: "https://evil.example" };
      const get = await fetch(`${http.url}/health`, { headers: evil });
      expect(get.headers.get("access-control-allow-origin")).toBeNull();
      const pre = await fetch(`${http.url}/documents`, {
        method: "OPTIONS",
        headers: { ...evil, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
      expect(pre.headers.get("access-control-allow-headers")).toBeNull();
    } finally {
      await http.close();
    }
  });

  it("grants exactly the configured origins and nothing else", async () => {
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { CORS_ORIGINS: "https://app.example.com, http://localhost:5173/" }), kb);
    try {
      const ok = await fetch(`${http.url}/health`, { headers: { origin: "https://app.example.com" } });
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      expect(ok.headers.get("vary")).toMatch(/origin/i);
      const pre = await fetch(`${http.url}/ask`, { method: "OPTIONS", headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
      expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
      for (const origin of ["https://evil.example", "https://app.example.com.evil.example", "null"]) {
        const r = await fetch(`${http.url}/health`, { headers: { origin } });
        expect(r.headers.get("access-control-allow-origin"), origin).toBeNull();
      }
    } finally {
      await http.close();
    }
  });

  it("refuses a CORS_ORIGINS value that is not a list of origins", () => {
    expect(() => testConfig(ws.docsDir, ws.storeDir, { CORS_ORIGINS: "*" })).toThrow(/CORS_ORIGINS/);
    expect(() => testConfig(ws.docsDir, ws.storeDir, { CORS_ORIGINS: "https://a.example/path" })).toThrow(/CORS_ORIGINS/);
  });
});

describe("many slow answers cannot exhaust the server", () => {
  it("past MAX_CONCURRENT_ANSWERS, answers get 503 OVERLOADED with Retry-After while health and search still answer", async () => {
    const env = { MAX_CONCURRENT_ANSWERS: "2", LLM_PROVIDER: "openai", LLM_BASE_URL: fake.url, LLM_API_KEY: "sk-cap-test" };
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir, env), kb);
    const abort = new AbortController();
    try {
      const streams = await Promise.all([0, 1].map(() => post(http.url, "/ask", { question: QUESTION, stream: true }, {}, abort.signal)));
      expect(streams.map((r) => r.status)).toEqual([200, 200]);
      const third = await post(http.url, "/ask", { question: QUESTION });
      expect(third.status).toBe(503);
      expect(third.headers.get("retry-after")).toBe("1");
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe("OVERLOADED");
      expect((await fetch(`${http.url}/health`)).status).toBe(200);
      expect((await post(http.url, "/search", { query: QUESTION })).status).toBe(200);
      // Clients going away free their slots.
      abort.abort();
      await new Promise((r) => setTimeout(r, 100));
      const after = await post(http.url, "/ask", { question: QUESTION, stream: true });
      expect(after.status).toBe(200);
      const events = await readSse(after, (e) => e.event === "token");
      expect(events.at(-1)?.event).toBe("token");
    } finally {
      abort.abort();
      await http.close();
    }
  });
});

describe("socket limits: idle, slow and too many connections", () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    const config = testConfig(ws.docsDir, ws.storeDir);
    const app = createApp({ config, kb, logger: createLogger("silent"), llm: null, answers: await createAnswerService(kb, config) });
    // Node checks header/request timeouts on this interval; the default 30 s would make the test slow, not different.
    server = createServer({ connectionsCheckingInterval: 50 }, app);
    applyServerLimits(server, { maxConnections: 4 }, { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 200, idleSocketMs: 800 });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(s));
      // Flowing, so the server's FIN is read and "close" fires (a paused socket never sees the end).
      s.resume();
      s.on("error", () => {});
      s.once("error", reject);
      sockets.push(s);
    });
  const closedWithin = (s: Socket, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (s.destroyed || s.readableEnded) return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      s.once("close", () => {
        clearTimeout(t);
        resolve(true);
      });
    });

  it("a slow-loris client that never finishes its headers is cut off", async () => {
    const s = await open();
    s.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    let response = "";
    s.on("data", (d) => {
      response += d.toString();
    });
    expect(await closedWithin(s, 3000)).toBe(true);
    // Node answers 408 before closing, or just closes; either way the socket is gone and nothing was served.
    expect(response).not.toContain("200 OK");
  });

  it("idle connections are closed, and past MAX_CONNECTIONS new ones are dropped while served ones still work", async () => {
    const idle = await Promise.all([open(), open(), open(), open()]);
    const extra = await open().catch(() => undefined);
    if (extra) expect(await closedWithin(extra, 1000)).toBe(true);
    // The idle ones time out on their own, after which the server accepts again.
    expect(await Promise.all(idle.map((s) => closedWithin(s, 3000)))).toEqual([true, true, true, true]);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
  });
});
