import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.ts";
import { ConfigError } from "../../../src/errors/app-error.ts";

describe("loadConfig", () => {
  it("defaults to offline mode with local embeddings", () => {
    const c = loadConfig({});
    expect(c.llm).toBeNull();
    expect(c.embeddings).toEqual({ provider: "local", dimensions: 1024 });
    expect(c).toMatchObject({ port: 3000, host: "127.0.0.1", chunker: { chunkSize: 400, chunkOverlap: 80 }, hnsw: { efSearch: 768 } });
    expect(c.docsDir).toMatch(/docs-corpus$/);
  });

  it("resolves a preset with its base URL, model and key, each overridable", () => {
    const c = loadConfig({ LLM_PROVIDER: "zhipu", LLM_API_KEY: "k1" });
    expect(c.llm).toEqual({
      provider: "zhipu",
      model: "glm-4-flash",
      apiKey: "k1",
      baseURL: "https://open.bigmodel.cn/api/paas/v4",
      timeoutMs: 60000,
      maxRetries: 2,
      temperature: 0.2,
    });
    const o = loadConfig({ LLM_PROVIDER: "qwen", DASHSCOPE_API_KEY: "k2", LLM_MODEL: "qwen-max", LLM_BASE_URL: "http://127.0.0.1:9/v1/" });
    expect(o.llm).toMatchObject({ provider: "qwen", model: "qwen-max", apiKey: "k2", baseURL: "http://127.0.0.1:9/v1" });
    expect(loadConfig({ LLM_PROVIDER: "ollama" }).llm?.apiKey).toBeUndefined();
  });

  it("lists every bad key in one error", () => {
    try {
      loadConfig({ PORT: "x", LLM_PROVIDER: "nope", CHUNK_SIZE: "3" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.join("\n");
      expect(issues).toMatch(/PORT/);
      expect(issues).toMatch(/LLM_PROVIDER/);
      expect(issues).toMatch(/CHUNK_SIZE/);
    }
  });

  it("a provider that needs a key fails at start-up, naming the variables", () => {
    expect(() => loadConfig({ LLM_PROVIDER: "deepseek" })).toThrow(/LLM_API_KEY.*DEEPSEEK_API_KEY.*LLM_PROVIDER=none/s);
    expect(() => loadConfig({ EMBEDDINGS_PROVIDER: "openai" })).toThrow(/EMBEDDINGS_API_KEY.*OPENAI_API_KEY/s);
  });

  it("refuses a non-http base URL and overlap not smaller than size", () => {
    expect(() => loadConfig({ LLM_PROVIDER: "ollama", LLM_BASE_URL: "file:///etc/passwd" })).toThrow(/LLM_BASE_URL/);
    expect(() => loadConfig({ CHUNK_SIZE: "200", CHUNK_OVERLAP: "200" })).toThrow(/CHUNK_OVERLAP/);
  });

  it("CLI overrides win over the environment", () => {
    const c = loadConfig({ VECTORSTORE_DIR: "/a" }, { storeDir: "/b" });
    expect(c.storeDir).toBe("/b");
  });
});

describe("provider limits", () => {
  it("caps the embedding batch at the provider's request limit (DashScope: 10)", () => {
    const c = loadConfig({ EMBEDDINGS_PROVIDER: "qwen", EMBEDDINGS_API_KEY: "k", EMBEDDINGS_BATCH_SIZE: "64" });
    expect(c.embeddings).toMatchObject({ batchSize: 10, model: "text-embedding-v3" });
    expect(loadConfig({ EMBEDDINGS_PROVIDER: "openai", EMBEDDINGS_API_KEY: "k" }).embeddings).toMatchObject({ batchSize: 64 });
  });

  it("refuses embeddings from a provider without an embeddings endpoint", () => {
    expect(() => loadConfig({ EMBEDDINGS_PROVIDER: "deepseek", EMBEDDINGS_API_KEY: "k" })).toThrow(/deepseek has no embeddings endpoint/);
  });
});
