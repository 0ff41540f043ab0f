import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { type Json, postJson, rawRequest } from "./security-helpers.ts";

/**
 * SECURITY-TESTS 7: `__proto__` / `constructor.prototype` keys anywhere in a request (JSON bodies of every endpoint,
 * nested objects and arrays, query strings, multipart field names) are refused or ignored, and never reach
 * Object.prototype. The app runs in this process, so `({}).polluted` here is the server's own prototype.
 */

const TOKEN = "admin-token-proto-pollution-x9";
const ON_TOPIC = "星河-7B 的上下文长度是多少？";
const MARKERS = ["polluted", "polluted2", "polluted3", "isAdmin", "full", "k", "question", "query", "messages", "stream", "role"] as const;

const ws = tempWorkspace(FIXTURE_CORPUS);
let kb: KnowledgeBase;
let fake: FakeOpenAI;
let http: Awaited<ReturnType<typeof serveApp>>;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
const arrayPrototypeKeys = Object.getOwnPropertyNames(Array.prototype).sort();

beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  fake = await startFakeOpenAI({ chatReply: () => "星河-7B 支持 8192 的上下文长度 [1]。" });
  http = await serveApp(
    testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN, LLM_PROVIDER: "openai", LLM_BASE_URL: fake.url, LLM_API_KEY: "sk-proto", LLM_MAX_RETRIES: "0" }),
    kb,
  );
});
afterEach(async () => {
  const running = http.jobs.running;
  if (running) await http.jobs.wait(running.id);
});
afterAll(async () => {
  await http?.close();
  await fake?.close();
  ws.cleanup();
});

/** Nothing was added to Object.prototype or Array.prototype, and a fresh object has none of the marker keys. */
function expectCleanPrototypes(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayPrototypeKeys);
  const fresh: Record<string, unknown> = {};
  for (const key of MARKERS) expect(fresh[key], key).toBeUndefined();
  expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
}

const polluting = (inner: string) => [
  `"__proto__": {"polluted": true, "isAdmin": true}`,
  `"constructor": {"prototype": {"polluted2": true}}`,
  `"x": {"__proto__": {"polluted3": true}}`,
  inner,
];

const bodies: [string, string, string, Record<string, string>?][] = [
  ["POST /ask", "/ask", `{"question": "${ON_TOPIC}", ${polluting(`"history": [{"role": "user", "content": "hi", "__proto__": {"polluted": 1}}]`).join(", ")}}`],
  [
    "POST /ask (stream)",
    "/ask",
    `{"question": "${ON_TOPIC}", "stream": true, ${polluting(`"y": [{"constructor": {"prototype": {"polluted2": 1}}}]`).join(", ")}}`,
  ],
  ["POST /search", "/search", `{"query": "${ON_TOPIC}", ${polluting(`"k": 3`).join(", ")}}`],
  [
    "POST /v1/chat/completions",
    "/v1/chat/completions",
    `{"model": "kb", "messages": [{"role": "user", "content": "${ON_TOPIC}", "__proto__": {"polluted": true}}], ${polluting(`"stream_options": {"__proto__": {"include_usage": true}}`).join(", ")}}`,
  ],
  [
    "POST /v1/chat/completions (text parts)",
    "/v1/chat/completions",
    `{"messages": [{"role": "user", "content": [{"type": "text", "text": "${ON_TOPIC}", "__proto__": {"polluted": 1}}]}], ${polluting(`"z": null`).join(", ")}}`,
  ],
  ["POST /index/rebuild", "/index/rebuild", `{${polluting(`"full": false`).join(", ")}}`, { authorization: `Bearer ${TOKEN}` }],
  ["POST /index/rebuild (only __proto__)", "/index/rebuild", `{"__proto__": {"full": true, "polluted": true}}`, { authorization: `Bearer ${TOKEN}` }],
];

describe("SECURITY-TESTS 7: __proto__ and constructor.prototype keys pollute nothing", () => {
  for (const [label, path, body, headers] of bodies) {
    it(`${label} → 200/202 (keys ignored) or 400, prototypes untouched`, async () => {
      const res = await postJson(http.url, path, body, headers ?? {});
      expect([200, 202, 400]).toContain(res.status);
      // SSE or JSON, the body is read to the end so everything the request does has happened.
      const text = await res.text();
      if (res.status === 400) expect(JSON.parse(text).error.code).toBe("BAD_REQUEST");
      expectCleanPrototypes();
    });
  }

  it("a body whose only fields are under __proto__ never has them read as its own", async () => {
    const res = await postJson(http.url, "/ask", `{"__proto__": {"question": "${ON_TOPIC}", "k": 3}}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toMatch(/question/);
    expectCleanPrototypes();
  });

  it("query strings: ?__proto__[polluted]=1, ?constructor[prototype][polluted]=1 on GET and POST routes", async () => {
    const queries = [
      "?__proto__[polluted]=1",
      "?__proto__.polluted=1",
      "?constructor[prototype][polluted2]=1",
      "?a[__proto__][polluted3]=1",
      "?__proto__=polluted",
      `?token[__proto__][isAdmin]=1&access_token[constructor][prototype][polluted]=1`,
    ];
    for (const q of queries) {
      for (const path of ["/health", "/documents", `/index/jobs/${randomUUID()}`, "/v1/models"]) {
        const res = await rawRequest(http.url, "GET", `${path}${q}`);
        expect([200, 404], `${path}${q}`).toContain(res.status);
      }
      const search = await rawRequest(http.url, "POST", `/search${q}`, { "content-type": "application/json" }, JSON.stringify({ query: ON_TOPIC }));
      expect(search.status).toBe(200);
    }
    expectCleanPrototypes();
  });

  it("headers named __proto__ / constructor", async () => {
    // JSON.parse makes `__proto__` an own key (an object literal would set the prototype instead of a header).
    const headers = JSON.parse('{"__proto__": "polluted", "constructor": "x", "x-request-id": "__proto__"}') as Record<string, string>;
    const res = await rawRequest(http.url, "GET", "/health", headers);
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toBe("__proto__");
    expectCleanPrototypes();
  });

  it("multipart uploads with parts and file names called __proto__", async () => {
    const boundary = `----proto${randomUUID()}`;
    const part = (disposition: string, content: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`;
    const body = [
      part('name="__proto__"', "polluted"),
      part('name="constructor[prototype][polluted2]"', "1"),
      part('name="__proto__"; filename="__proto__.md"', "# proto\n\nA file named __proto__."),
      part('name="file"; filename="constructor.md"', "# constructor"),
      `--${boundary}--\r\n`,
    ].join("");
    const res = await rawRequest(
      http.url,
      "POST",
      "/documents",
      { authorization: `Bearer ${TOKEN}`, "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    );
    expect([202, 400]).toContain(res.status);
    if (res.status === 202) {
      const sources = (JSON.parse(res.body) as Json).documents.map((d: Json) => d.source);
      expect(sources).toEqual(expect.arrayContaining(["uploads/__proto__.md", "uploads/constructor.md"]));
      await http.jobs.wait(JSON.parse(res.body).jobId);
    }
    expectCleanPrototypes();
  });

  it("the server still answers normally afterwards", async () => {
    const res = await postJson(http.url, "/ask", { question: ON_TOPIC });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).found).toBe(true);
    expectCleanPrototypes();
  });
});
