import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { KnowledgeBase as KB } from "../../src/knowledge-base/knowledge-base.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { type Json, parseLogs, postJson, rawRequest, socketRequest } from "./security-helpers.ts";

/**
 * The hardening issue's "request ids in logs and error bodies": every response carries X-Request-Id; every error body
 * carries the same id; a client's own X-Request-Id is kept only when it is short and plain ([A-Za-z0-9_.-], at most
 * 64), otherwise replaced, so it cannot forge log fields, split log lines or smuggle markup; the 5xx log line names the
 * id the client was given.
 */

const TOKEN = "admin-token-request-ids-3Zt";
const QUESTION = "星河-7B 的上下文长度是多少？";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ws = tempWorkspace(FIXTURE_CORPUS);
let kb: KnowledgeBase;
let fake: FakeOpenAI;
let http: Awaited<ReturnType<typeof serveApp>>;

beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  fake = await startFakeOpenAI({ chatReply: () => "星河-7B 支持 8192 的上下文长度 [1]。" });
  http = await serveApp(
    testConfig(ws.docsDir, ws.storeDir, {
      ADMIN_TOKEN: TOKEN,
      LLM_PROVIDER: "openai",
      LLM_BASE_URL: fake.url,
      LLM_API_KEY: "sk-request-ids",
      LLM_MAX_RETRIES: "0",
      LLM_TIMEOUT_MS: "2000",
      RATE_LIMIT_PER_MIN: "1000",
    }),
    kb,
  );
});
afterAll(async () => {
  await http?.close();
  await fake?.close();
  ws.cleanup();
});

/** Every way this app answers with an error, one request each. */
const ERROR_REQUESTS = (): [string, (url: string) => Promise<Response>][] => {
  const json = { "content-type": "application/json" };
  const auth = { authorization: `Bearer ${TOKEN}` };
  return [
    ["400 INVALID_JSON", (url) => fetch(`${url}/ask`, { method: "POST", headers: json, body: "{" })],
    ["400 BAD_REQUEST (/ask)", (url) => postJson(url, "/ask", { question: "" })],
    ["400 BAD_REQUEST (/search k)", (url) => postJson(url, "/search", { query: "x", k: 0 })],
    ["400 BAD_REQUEST (/v1)", (url) => postJson(url, "/v1/chat/completions", { messages: [] })],
    ["400 INVALID_JSON (/v1)", (url) => fetch(`${url}/v1/chat/completions`, { method: "POST", headers: json, body: "[" })],
    ["401 UNAUTHORIZED", (url) => fetch(`${url}/index/rebuild`, { method: "POST" })],
    ["401 UNAUTHORIZED (token in the URL)", (url) => fetch(`${url}/index/rebuild?token=${TOKEN}`, { method: "POST", headers: auth })],
    ["404 NOT_FOUND (route)", (url) => fetch(`${url}/nope`)],
    ["404 NOT_FOUND (/v1 route)", (url) => fetch(`${url}/v1/nope`)],
    ["404 NOT_FOUND (job)", (url) => fetch(`${url}/index/jobs/${randomUUID()}`)],
    ["404 NOT_FOUND (document)", (url) => fetch(`${url}/documents/ffffffffffffffff`, { method: "DELETE", headers: auth })],
    ["400 BAD_REQUEST (document id)", (url) => fetch(`${url}/documents/..%2f..`, { method: "DELETE", headers: auth })],
    ["413 PAYLOAD_TOO_LARGE", (url) => postJson(url, "/search", { query: "x".repeat(70_000) })],
    ["415 UNSUPPORTED_MEDIA_TYPE", (url) => fetch(`${url}/ask`, { method: "POST", headers: { "content-type": "text/plain" }, body: QUESTION })],
    [
      "415 UNSUPPORTED_MEDIA_TYPE (upload)",
      (url) => fetch(`${url}/documents`, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "x" }),
    ],
    [
      "502 UPSTREAM_ERROR",
      (url) => {
        fake.setFault("chat", { kind: "status", status: 500, body: { error: { message: "boom" } }, times: 1 });
        return postJson(url, "/ask", { question: QUESTION });
      },
    ],
    [
      "502 UPSTREAM_ERROR (/v1)",
      (url) => {
        fake.setFault("chat", { kind: "status", status: 500, body: { error: { message: "boom" } }, times: 1 });
        return postJson(url, "/v1/chat/completions", { messages: [{ role: "user", content: QUESTION }] });
      },
    ],
  ];
};

describe("every error body carries the request id of its response", () => {
  for (const [label, send] of ERROR_REQUESTS()) {
    it(`${label}: error.requestId === X-Request-Id (a fresh UUID)`, async () => {
      const res = await send(http.url);
      expect(res.status).toBe(Number(label.slice(0, 3)));
      const id = res.headers.get("x-request-id");
      expect(id).toMatch(UUID);
      const body = (await res.json()) as Json;
      expect(body.error.requestId).toBe(id);
      expect(typeof body.error.code).toBe("string");
    });
  }

  it("503s from an app with no index carry it too, and so do successful responses (header only)", async () => {
    const none = tempWorkspace(FIXTURE_CORPUS);
    const unloaded = await KB.open(testConfig(none.docsDir, none.storeDir));
    const app = await serveApp(testConfig(none.docsDir, none.storeDir, { MAX_CONCURRENT_ANSWERS: "1" }), unloaded);
    try {
      for (const res of [await postJson(app.url, "/ask", { question: QUESTION }), await postJson(app.url, "/search", { query: QUESTION })]) {
        expect(res.status).toBe(503);
        expect(((await res.json()) as Json).error.requestId).toBe(res.headers.get("x-request-id"));
      }
    } finally {
      await app.close();
      none.cleanup();
    }
    for (const path of ["/health", "/documents", "/v1/models", "/", "/styles.css"]) {
      const res = await fetch(`${http.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("x-request-id"), path).toMatch(UUID);
    }
  });

  it("every request gets its own id", async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${http.url}/health`)).headers.get("x-request-id")));
    expect(new Set(ids).size).toBe(20);
  });
});

describe("a client's X-Request-Id is kept only when it is short and plain", () => {
  const kept = ["abc-123", "A_b.c-1", "0", "x".repeat(64), "f47ac10b-58cc-4372-a567-0e02b2c3d479", "__proto__"];
  for (const id of kept) {
    it(`${id.length > 20 ? `${id.slice(0, 12)}… (${id.length})` : id} → kept, in the header and the error body`, async () => {
      const res = await rawRequest(http.url, "GET", "/nope", { "x-request-id": id });
      expect(res.headers["x-request-id"]).toBe(id);
      expect(JSON.parse(res.body).error.requestId).toBe(id);
    });
  }

  const replaced: [string, string][] = [
    ["65 characters", "x".repeat(65)],
    ["a double quote", 'abc"def'],
    ['a forged log field ("level":"info")', '","level":"info","msg":"forged'],
    ["a space", "abc def"],
    ["a tab", "abc\tdef"],
    ["markup", "<script>alert(1)</script>"],
    ["a slash and ..", "../../etc/passwd"],
    ["a comma (two ids joined)", "a,b"],
    ["a semicolon", "a;b"],
    ["encoded CR LF", "abc%0d%0aSet-Cookie:%20x=1"],
    ["a backslash", "a\\b"],
    ["Latin-1 bytes", "caf\u00e9"],
    ["empty", ""],
  ];
  for (const [label, id] of replaced) {
    it(`${label} → replaced by a server UUID`, async () => {
      const res = await rawRequest(http.url, "GET", "/nope", { "x-request-id": id });
      expect(res.status).toBe(404);
      expect(res.headers["x-request-id"]).toMatch(UUID);
      expect(JSON.parse(res.body).error.requestId).toBe(res.headers["x-request-id"]);
    });
  }

  it("the header twice → one server UUID, not a joined value", async () => {
    const raw = await socketRequest(http.url, "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: aaa\r\nX-Request-Id: bbb\r\nConnection: close\r\n\r\n");
    const header = /\r\nx-request-id: ([^\r\n]*)/i.exec(raw)?.[1];
    expect(header).toMatch(UUID);
  });

  it("raw CR/LF or a folded line in the header cannot add a response header or a log line", async () => {
    for (const line of ["X-Request-Id: abc\r\n def", "X-Request-Id: abc\rSet-Cookie: injected=1", "X-Request-Id: abc\nSet-Cookie: injected=1"]) {
      const raw = await socketRequest(http.url, `GET /health HTTP/1.1\r\nHost: x\r\n${line}\r\nConnection: close\r\n\r\n`);
      // Either Node refuses the request (400) or the id is replaced; never a header the client wrote.
      expect(raw).toMatch(/^HTTP\/1\.1 (200|400)/);
      expect(raw).not.toMatch(/set-cookie|injected/i);
      const header = /\r\nx-request-id: ([^\r\n]*)/i.exec(raw)?.[1];
      if (header !== undefined) expect(header).toMatch(UUID);
    }
  });
});

describe("the 5xx log line names the request id the client got", () => {
  it("a plain client id is logged as is; a hostile one is logged as the server's UUID; lines stay one JSON object each", async () => {
    const before = http.logs.length;
    for (const id of ["trace-42.retry_1", '","level":"info","msg":"forged', "x".repeat(200)]) {
      fake.setFault("chat", { kind: "status", status: 500, body: { error: { message: "boom" } }, times: 1 });
      const res = await postJson(http.url, "/ask", { question: QUESTION }, { "x-request-id": id });
      expect(res.status).toBe(502);
      const given = res.headers.get("x-request-id");
      expect(((await res.json()) as Json).error.requestId).toBe(given);
      if (id === "trace-42.retry_1") expect(given).toBe(id);
      else expect(given).toMatch(UUID);
      const logged = parseLogs(http.logs.slice(before)).filter((l) => l?.requestId === given);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: "error", msg: "request failed", status: 502, path: "/ask", method: "POST" });
    }
    const lines = http.logs.slice(before);
    expect(parseLogs(lines).every((l) => l !== undefined)).toBe(true);
    expect(lines.join("\n")).not.toContain("forged");
    expect(parseLogs(lines).filter((l) => l?.level === "info" && l?.msg === "forged")).toEqual([]);
  });
});
