import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { type FakeOpenAI, type FaultSpec, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { type Json, postJson, tree } from "./security-helpers.ts";

/**
 * SECURITY-TESTS 20 at the level that matters: a build (CLI-style ingest or a rebuild started over HTTP) whose
 * embedding API answers with the wrong number of vectors, a wrong length, null, NaN, a string or an out-of-range
 * number — in the first batch or in a later one — fails as a whole. Nothing is added: the published index (CURRENT,
 * documents, search results) is the one from before, no new index folder is left behind, and the next build with a
 * healthy API publishes normally. (The per-response checks themselves are unit-tested in
 * test/integration/openai-compatible-embeddings.test.ts.)
 */

const NEW_FACT = "珊瑚-12 模型的上下文长度为 131072 个词元。";
const ws = tempWorkspace(FIXTURE_CORPUS);
let fake: FakeOpenAI;
let kb: KnowledgeBase;
const env = (): Record<string, string> => ({
  EMBEDDINGS_PROVIDER: "openai-compatible",
  EMBEDDINGS_BASE_URL: fake.url,
  EMBEDDINGS_API_KEY: "sk-embedding-faults",
  EMBEDDINGS_BATCH_SIZE: "2",
  EMBEDDINGS_MAX_RETRIES: "1",
  ADMIN_TOKEN: "admin-embedding-faults",
});

beforeAll(async () => {
  fake = await startFakeOpenAI({ dimensions: 12 });
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir, env());
  // New documents with several chunks, so the rebuild embeds several batches of two.
  writeFileSync(
    join(ws.docsDir, "coral.md"),
    `# 珊瑚系列\n\n${NEW_FACT}\n\n## 训练\n\n珊瑚-12 在 5 万亿词元上训练。\n\n## 许可\n\n珊瑚-12 以 Apache-2.0 发布。\n`,
  );
  writeFileSync(join(ws.docsDir, "coral-2.md"), "# 珊瑚评测\n\n珊瑚-12 在中文阅读理解上得分 88.1。\n\n## 速度\n\n每秒生成 95 个词元。\n");
});
afterAll(async () => {
  await fake?.close();
  ws.cleanup();
});
beforeEach(() => fake.reset());

/** What must not change when a build fails. */
function snapshot() {
  return {
    current: readFileSync(join(ws.storeDir, "CURRENT"), "utf8"),
    store: tree(ws.storeDir).filter((p) => !/lock/i.test(p)),
    documents: kb.listDocuments().map((d) => d.source),
    chunks: kb.status().index.chunks,
    buildId: kb.index?.manifest.buildId,
  };
}

const FAULTS: [string, FaultSpec][] = [
  ["one vector too few", { kind: "wrong-count", delta: -1 }],
  ["one vector too many", { kind: "wrong-count", delta: 1 }],
  ["a vector of the wrong length", { kind: "wrong-length", length: 5, index: 1 }],
  ["a vector longer than the index's", { kind: "wrong-length", length: 24 }],
  ["a null value", { kind: "bad-value", value: null }],
  ['"NaN" (JSON has no NaN)', { kind: "bad-value", value: "NaN" }],
  ["a string number", { kind: "bad-value", value: "0.5", index: 1 }],
  ["1e39 (Infinity as float32)", { kind: "bad-value", value: 1e39 }],
  ["a nested array", { kind: "bad-value", value: [0.1, 0.2] }],
  ["a 200 that is not JSON", { kind: "status", status: 200, body: "vectors: soon", contentType: "text/plain" }],
  ["a 500 (retried once, then failed)", { kind: "status", status: 500, body: { error: { message: "embedding backend down" } } }],
];

describe("SECURITY-TESTS 20: a bad embeddings response fails the whole build; nothing is added", () => {
  for (const [label, fault] of FAULTS) {
    it(`${label}, in the first batch`, async () => {
      const before = snapshot();
      fake.setFault("embeddings", fault);
      await expect(kb.ingest()).rejects.toMatchObject({ code: expect.stringMatching(/^EMBEDDINGS_(BAD_OUTPUT|FAILED)$/) });
      expect(snapshot()).toEqual(before);
      fake.setFault("embeddings", null);
      expect((await kb.search(NEW_FACT, 5)).some((h) => h.source.startsWith("coral"))).toBe(false);
    });
  }

  // The last batch may hold a single input, so these faults hit the first vector of a batch.
  for (const [label, fault] of FAULTS.slice(0, 5).map(([l, f]) => [l, "index" in f ? { ...f, index: 0 } : f] as [string, FaultSpec])) {
    it(`${label}, in a later batch (after good ones)`, async () => {
      const before = snapshot();
      let armed = false;
      await expect(
        kb.ingest({
          onProgress: (p) => {
            // Once the first batch is embedded, the API starts misbehaving.
            if (!armed && p.phase === "embed" && p.done > 0) {
              armed = true;
              fake.setFault("embeddings", fault);
            }
          },
        }),
      ).rejects.toMatchObject({ code: expect.stringMatching(/^EMBEDDINGS_/) });
      expect(armed).toBe(true);
      expect(fake.requests.filter((r) => r.route === "embeddings").length).toBeGreaterThan(1);
      expect(snapshot()).toEqual(before);
    });
  }

  it("over HTTP: the rebuild job fails with a safe message; documents and search are unchanged; the server keeps serving", async () => {
    const http = await serveApp(testConfig(ws.docsDir, ws.storeDir, env()), kb);
    try {
      const before = snapshot();
      fake.setFault("embeddings", { kind: "bad-value", value: null, index: 0 });
      const start = await postJson(http.url, "/index/rebuild", {}, { authorization: "Bearer admin-embedding-faults" });
      expect(start.status).toBe(202);
      const { jobId } = (await start.json()) as Json;
      await http.jobs.wait(jobId);
      const job = (await (await fetch(`${http.url}/index/jobs/${jobId}`)).json()) as Json;
      expect(job.state).toBe("failed");
      expect(job.error.code).toBe("INGEST_FAILED");
      expect(job.error.message).toMatch(/unusable embeddings/);
      expect(snapshot()).toEqual(before);
      fake.setFault("embeddings", null);
      const search = await postJson(http.url, "/search", { query: "星河-7B 的上下文长度" });
      expect(search.status).toBe(200);
      expect(((await search.json()) as Json).results.length).toBeGreaterThan(0);
    } finally {
      await http.close();
    }
  });

  it("with the API healthy again, the next build publishes the new documents", async () => {
    const before = snapshot();
    const summary = await kb.ingest();
    // The fixture corpus's broken.pdf fails on its own in every build; nothing else does.
    expect(summary.failed.map((f) => f.source)).toEqual(["broken.pdf"]);
    const after = snapshot();
    expect(after.current).not.toBe(before.current);
    expect(after.documents).toEqual(expect.arrayContaining(["coral.md", "coral-2.md"]));
    expect((await kb.search(NEW_FACT, 3))[0]?.source).toBe("coral.md");
  });
});
