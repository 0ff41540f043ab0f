import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { readSse } from "../helpers/sse-client.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { type Json, parseLogs, postJson, rawRequest } from "./security-helpers.ts";

/**
 * SECURITY-TESTS 14 and the hardening issue's "structured logs, no secrets": each API key goes only to the host it is
 * configured for (the answer model's key never to the embeddings endpoint and the other way round, neither anywhere
 * else); nothing in a request can choose the upstream host or model; upstream error bodies (which echo keys, as real
 * providers do) never reach a client, a rebuild job's public status or the log; and the log never holds a key, the
 * admin token or an Authorization header.
 *
 * Two loopback fakes: `upstream` is the configured provider, `attacker` is a host nobody configured.
 */

const LLM_KEY = "sk-llm-LEAK-CANARY-7f3a9c";
const EMBED_KEY = "sk-embed-LEAK-CANARY-2b8c1d";
const ADMIN_TOKEN = "admin-LEAK-CANARY-91d0e2";
const CLIENT_TOKEN = "client-own-LEAK-CANARY-55aa";
const CANARIES = [LLM_KEY, EMBED_KEY, ADMIN_TOKEN, CLIENT_TOKEN];
const ON_TOPIC = "星河-7B 的上下文长度是多少？";
/** What a provider's error body says; it quotes both keys and some server internals. */
const ECHO = `Incorrect API key provided: ${LLM_KEY} / ${EMBED_KEY}. upstream-internal-trace at /srv/provider/handler.py:42`;

const ws = tempWorkspace(FIXTURE_CORPUS);
let kb: KnowledgeBase;
let upstream: FakeOpenAI;
let attacker: FakeOpenAI;
let http: Awaited<ReturnType<typeof serveApp>>;

/** Every fetch made in this process (the SDKs' and the test's), with the Authorization it carried. */
const outgoing: { host: string; authorization: string | null }[] = [];
const realFetch = globalThis.fetch;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ dimensions: 16, chatReply: () => "星河-7B 支持 8192 的上下文长度 [1]。" });
  attacker = await startFakeOpenAI();
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
    outgoing.push({ host: url.host, authorization: headers.get("authorization") });
    return realFetch(input, init);
  };
  const env = {
    EMBEDDINGS_PROVIDER: "openai-compatible",
    EMBEDDINGS_BASE_URL: upstream.url,
    EMBEDDINGS_API_KEY: EMBED_KEY,
    EMBEDDINGS_MAX_RETRIES: "0",
    LLM_PROVIDER: "openai",
    LLM_BASE_URL: upstream.url,
    LLM_API_KEY: LLM_KEY,
    LLM_MAX_RETRIES: "0",
    LLM_TIMEOUT_MS: "3000",
    ADMIN_TOKEN,
  };
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir, env);
  http = await serveApp(testConfig(ws.docsDir, ws.storeDir, env), kb);
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await http?.close();
  await upstream?.close();
  await attacker?.close();
  ws.cleanup();
});
beforeEach(() => {
  upstream.reset();
});

const upstreamHost = () => new URL(upstream.url).host;
const noCanary = (text: string, where: string) => {
  for (const c of CANARIES) expect(text, where).not.toContain(c);
  expect(text, where).not.toMatch(/upstream-internal-trace|\/srv\/provider|Incorrect API key/);
};

describe("SECURITY-TESTS 14: each key goes only to its configured host", () => {
  it("the answer model's key only on chat requests, the embeddings key only on embeddings requests, both only to the configured host", async () => {
    const res = await postJson(http.url, "/ask", { question: ON_TOPIC });
    expect(res.status).toBe(200);
    const byRoute = (route: RecordedRequest["route"]) => upstream.requests.filter((r) => r.route === route);
    expect(byRoute("chat").length).toBeGreaterThan(0);
    expect(byRoute("embeddings").length).toBeGreaterThan(0);
    for (const r of byRoute("chat")) expect(r.headers.authorization).toBe(`Bearer ${LLM_KEY}`);
    for (const r of byRoute("embeddings")) expect(r.headers.authorization).toBe(`Bearer ${EMBED_KEY}`);
    // Across everything this process sent so far (the build included): a key only ever went to the upstream host.
    const keyed = outgoing.filter((o) => o.authorization && CANARIES.some((c) => o.authorization?.includes(c)));
    expect(keyed.length).toBeGreaterThan(0);
    expect(new Set(keyed.map((o) => o.host))).toEqual(new Set([upstreamHost()]));
  });

  it("a request cannot choose the upstream: base URLs, endpoints and models in the body are ignored", async () => {
    const evil = `${attacker.url}/chat/completions`;
    const askBody = {
      question: ON_TOPIC,
      base_url: attacker.url,
      baseURL: attacker.url,
      api_base: attacker.url,
      endpoint: evil,
      model: evil,
      provider: "evil",
      apiKey: "x",
    };
    const ask = await postJson(http.url, "/ask", askBody);
    expect(ask.status).toBe(200);
    const v1 = await postJson(http.url, "/v1/chat/completions", {
      model: evil,
      base_url: attacker.url,
      api_base: attacker.url,
      baseURL: attacker.url,
      messages: [{ role: "user", content: ON_TOPIC }],
    });
    expect(v1.status).toBe(200);
    const streamed = await postJson(http.url, "/v1/chat/completions", { model: attacker.url, stream: true, messages: [{ role: "user", content: ON_TOPIC }] });
    await streamed.text();
    // Headers that some proxies honour do not steer the upstream either.
    const headers = { "x-base-url": attacker.url, "openai-base-url": attacker.url, "x-forwarded-host": new URL(attacker.url).host, "x-openai-model": evil };
    expect((await postJson(http.url, "/ask", { question: ON_TOPIC }, headers)).status).toBe(200);

    expect(attacker.requests).toEqual([]);
    const chats = upstream.requests.filter((r) => r.route === "chat");
    expect(chats.length).toBe(4);
    for (const r of chats) {
      expect((r.body as Json).model).toBe("gpt-4o-mini");
      expect(r.path).toBe("/v1/chat/completions");
    }
  });

  it("a client's own Authorization header is not forwarded upstream (the configured key is sent instead)", async () => {
    const res = await postJson(http.url, "/ask", { question: ON_TOPIC }, { authorization: `Bearer ${CLIENT_TOKEN}` });
    expect(res.status).toBe(200);
    for (const r of upstream.requests) {
      expect(JSON.stringify(r.headers)).not.toContain(CLIENT_TOKEN);
      expect(r.rawBody).not.toContain(CLIENT_TOKEN);
    }
  });

  it("the process environment's OpenAI variables do not redirect requests or add keys (config is the only reader)", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      OPENAI_API_KEY: "sk-ENV-LEAK-openai",
      OPENAI_ADMIN_KEY: "sk-ENV-LEAK-admin",
      OPENAI_ORG_ID: "org-ENV-LEAK",
      OPENAI_ORGANIZATION: "org-ENV-LEAK-2",
      OPENAI_PROJECT_ID: "proj-ENV-LEAK",
      OPENAI_BASE_URL: attacker.url,
      OPENAI_API_BASE: attacker.url,
    });
    // A keyless provider (Ollama) is where an SDK would reach for OPENAI_API_KEY if we let it.
    const env = {
      EMBEDDINGS_PROVIDER: "openai-compatible",
      EMBEDDINGS_BASE_URL: upstream.url,
      EMBEDDINGS_API_KEY: EMBED_KEY,
      LLM_PROVIDER: "ollama",
      LLM_BASE_URL: upstream.url,
      LLM_API_KEY: "",
    };
    const app = await serveApp(testConfig(ws.docsDir, ws.storeDir, env), kb);
    try {
      expect((await postJson(app.url, "/ask", { question: ON_TOPIC })).status).toBe(200);
      expect((await postJson(app.url, "/search", { query: ON_TOPIC })).status).toBe(200);
    } finally {
      await app.close();
      process.env = saved;
    }
    expect(attacker.requests).toEqual([]);
    const sent = upstream.requests.map((r) => JSON.stringify(r.headers)).join("\n");
    expect(sent).not.toMatch(/ENV-LEAK/);
    expect(upstream.requests.filter((r) => r.route === "chat").map((r) => r.headers.authorization)).toEqual(["Bearer not-needed"]);
  });
});

describe("SECURITY-TESTS 14: upstream error bodies are not echoed to clients", () => {
  const failures: [string, () => void][] = [
    [
      "a 401 whose body quotes the keys",
      () => upstream.setFault("chat", { kind: "status", status: 401, body: { error: { message: ECHO, type: "invalid_request_error" } } }),
    ],
    [
      "a 500 whose body quotes the keys",
      () => upstream.setFault("chat", { kind: "status", status: 500, body: { error: { message: ECHO, type: "server_error" } } }),
    ],
    [
      "a 400 whose body quotes the keys",
      () => upstream.setFault("chat", { kind: "status", status: 400, body: { error: { message: ECHO, type: "invalid_request_error" } } }),
    ],
    [
      "an HTML 502 page quoting the keys",
      () => upstream.setFault("chat", { kind: "status", status: 502, contentType: "text/html", body: `<html><body><pre>${ECHO}</pre></body></html>` }),
    ],
    ["a 200 that is plain text quoting the keys", () => upstream.setFault("chat", { kind: "status", status: 200, contentType: "text/plain", body: ECHO })],
  ];
  for (const [label, fault] of failures) {
    it(`${label}: /ask JSON and SSE, /v1 JSON and stream carry a safe 5xx error`, async () => {
      fault();
      const ask = await postJson(http.url, "/ask", { question: ON_TOPIC });
      expect(ask.status).toBeGreaterThanOrEqual(500);
      const askBody = await ask.text();
      noCanary(askBody, "/ask");
      expect(JSON.parse(askBody).error.requestId).toBe(ask.headers.get("x-request-id"));

      const events = await readSse(await postJson(http.url, "/ask", { question: ON_TOPIC, stream: true }));
      expect(events.at(-1)?.event).toBe("error");
      noCanary(JSON.stringify(events), "/ask SSE");

      const v1 = await postJson(http.url, "/v1/chat/completions", { messages: [{ role: "user", content: ON_TOPIC }] });
      expect(v1.status).toBeGreaterThanOrEqual(500);
      noCanary(await v1.text(), "/v1");

      const v1s = await postJson(http.url, "/v1/chat/completions", { stream: true, messages: [{ role: "user", content: ON_TOPIC }] });
      const v1sText = await v1s.text();
      expect(v1sText).toMatch(/"error":/);
      noCanary(v1sText, "/v1 stream");
    });
  }

  it("a query embedding that fails with a body quoting the keys → /search and /ask 502, nothing echoed", async () => {
    upstream.setFault("embeddings", { kind: "status", status: 401, body: { error: { message: ECHO } } });
    for (const [path, body] of [
      ["/search", { query: ON_TOPIC }],
      ["/ask", { question: ON_TOPIC }],
    ] as const) {
      const res = await postJson(http.url, path, body);
      expect(res.status).toBe(502);
      const text = await res.text();
      noCanary(text, path);
      expect(JSON.parse(text).error.requestId).toBe(res.headers.get("x-request-id"));
    }
  });

  it("a rebuild whose embeddings fail: the job's public status names the failure, not the body or the key", async () => {
    // A new document so the incremental rebuild has something to embed.
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${ws.docsDir}/leak-check.md`, "# 泄露检查\n\n这是一份用于检查密钥泄露的新文档。\n");
    upstream.setFault("embeddings", { kind: "status", status: 401, body: { error: { message: ECHO } } });
    const start = await postJson(http.url, "/index/rebuild", {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(start.status).toBe(202);
    const { jobId } = (await start.json()) as Json;
    await http.jobs.wait(jobId);
    const job = await rawRequest(http.url, "GET", `/index/jobs/${jobId}`);
    expect((JSON.parse(job.body) as Json).state).toBe("failed");
    noCanary(job.body, "job status");
    upstream.setFault("embeddings", null);
  });
});

describe("structured logs hold no secrets, and every failure is logged with its request id", () => {
  it("after all the failures above: every line is one JSON object with time, level and msg; no key, token or Authorization", async () => {
    // One more failure with the admin token and a client token in the request headers.
    upstream.setFault("chat", { kind: "status", status: 500, body: { error: { message: ECHO } } });
    const res = await postJson(http.url, "/ask", { question: ON_TOPIC }, { authorization: `Bearer ${ADMIN_TOKEN}`, cookie: `session=${CLIENT_TOKEN}` });
    expect(res.status).toBe(502);
    const requestId = res.headers.get("x-request-id");

    const lines = http.logs;
    const parsed = parseLogs(lines);
    expect(parsed.every((p) => p !== undefined)).toBe(true);
    for (const p of parsed) {
      expect(typeof p?.time).toBe("string");
      expect(["info", "warn", "error"]).toContain(p?.level);
      expect(typeof p?.msg).toBe("string");
    }
    const text = lines.join("\n");
    noCanary(text, "log");
    expect(text).not.toMatch(/authorization|bearer|cookie/i);
    // The failures were logged (the check above means something), with the id the client was given.
    const errors = parsed.filter((p) => p?.level === "error");
    expect(errors.length).toBeGreaterThanOrEqual(10);
    expect(errors.some((p) => p?.requestId === requestId && p?.status === 502)).toBe(true);
  });
});
