import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { FIXTURE_CORPUS, builtKnowledgeBase, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { serveApp } from "../helpers/http-app.ts";

describe("HTTP /health and /search (Express on port 0)", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  let http: Awaited<ReturnType<typeof serveApp>>;

  beforeAll(async () => {
    const kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
    http = await serveApp(testConfig(ws.docsDir, ws.storeDir), kb);
  });
  afterAll(async () => {
    await http.close();
    ws.cleanup();
  });

  const post = (path: string, body: string | undefined, headers: Record<string, string> = { "content-type": "application/json" }) =>
    fetch(`${http.url}${path}`, { method: "POST", headers, ...(body === undefined ? {} : { body }) });

  it("GET /health reports the index and the embedder", async () => {
    const res = await fetch(`${http.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ status: "ok", index: { documents: 3, embeddings: { provider: "local", dimensions: 1024 } }, llm: null });
    expect(body.index.chunks).toBeGreaterThan(0);
    expect(typeof body.index.builtAt).toBe("string");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("POST /search returns source fields and the full chunk text, best first", async () => {
    const res = await post("/search", JSON.stringify({ query: "星河-7B 的上下文长度", k: 2 }));
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as any;
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ source: "models.md", title: "模型速览", headings: ["模型速览", "一. 开源模型", "1. 星河系列"] });
    expect(results[0].text).toContain("8192");
    expect(typeof results[0].snippet).toBe("string");
    expect(results[0].score).toBeGreaterThanOrEqual(results[1].score);
  });

  const bad: [string, string | undefined, Record<string, string> | undefined, number, string][] = [
    ["malformed JSON", "{nope", undefined, 400, "INVALID_JSON"],
    ["a JSON array", "[1,2]", undefined, 400, "BAD_REQUEST"],
    ["null", "null", undefined, 400, "INVALID_JSON"],
    ["a number for query", JSON.stringify({ query: 5 }), undefined, 400, "BAD_REQUEST"],
    ["an empty query", JSON.stringify({ query: "   " }), undefined, 400, "BAD_REQUEST"],
    ["k = 0", JSON.stringify({ query: "x", k: 0 }), undefined, 400, "BAD_REQUEST"],
    ["k = -1", JSON.stringify({ query: "x", k: -1 }), undefined, 400, "BAD_REQUEST"],
    ["k = 1e9", JSON.stringify({ query: "x", k: 1e9 }), undefined, 400, "BAD_REQUEST"],
    ["k as a string", JSON.stringify({ query: "x", k: "5" }), undefined, 400, "BAD_REQUEST"],
    ["a query over the limit", JSON.stringify({ query: "长".repeat(2001) }), undefined, 400, "BAD_REQUEST"],
    ["a body over the size limit", JSON.stringify({ query: "x".repeat(70_000) }), undefined, 413, "PAYLOAD_TOO_LARGE"],
    ["text/plain", "query=x", { "content-type": "text/plain" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
  ];
  for (const [name, body, headers, status, code] of bad) {
    it(`rejects ${name} with ${status} ${code}`, async () => {
      const res = await post("/search", body, headers);
      expect(res.status).toBe(status);
      const json = (await res.json()) as any;
      expect(json.error.code).toBe(code);
      expect(typeof json.error.message).toBe("string");
      expect(JSON.stringify(json)).not.toMatch(/at .*\.ts:\d+/);
    });
  }

  it("rejects a gzip body that inflates past the limit with 413", async () => {
    const body = gzipSync(JSON.stringify({ query: "x".repeat(500_000) }));
    const res = await fetch(`${http.url}/search`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body });
    expect(res.status).toBe(413);
  });

  it("does not let __proto__ keys pollute prototypes", async () => {
    const res = await post("/search", '{"query":"星河","__proto__":{"polluted":true}}');
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await fetch(`${http.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe("NOT_FOUND");
  });

  it("keeps answering after bad requests", async () => {
    await post("/search", "{broken");
    const res = await post("/search", JSON.stringify({ query: "Orion-2" }));
    expect(res.status).toBe(200);
  });
});

describe("HTTP with no usable index", () => {
  it("reports degraded health and answers /search with 503 INDEX_NOT_FOUND instead of 500", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    const kb = await KnowledgeBase.open(testConfig(ws.docsDir, ws.storeDir));
    expect(await kb.tryLoad()).toBe(false);
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir), kb);
    try {
      const health = (await (await fetch(`${http.url}/health`)).json()) as any;
      expect(health.status).toBe("degraded");
      expect(health.message).toMatch(/npm run ingest/);
      const res = await fetch(`${http.url}/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "x" }) });
      expect(res.status).toBe(503);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("INDEX_NOT_FOUND");
      expect(body.error.message).toMatch(/npm run ingest/);
    } finally {
      await http.close();
      ws.cleanup();
    }
  });
});
