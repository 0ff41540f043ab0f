import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.ts";
import { createEmbeddingModel } from "../../../src/providers/create-embedding-model.ts";
import { LocalHashEmbeddings } from "../../../src/providers/local-embeddings.ts";
import { OpenAICompatibleEmbeddings } from "../../../src/providers/openai-compatible-embeddings.ts";
import { PRESET_NAMES, PROVIDER_PRESETS } from "../../../src/providers/presets.ts";

// DeepSeek has no embeddings endpoint; config refuses it (tested in config.test.ts).
const EMBEDDING_PRESETS = PRESET_NAMES.filter((n) => (PROVIDER_PRESETS[n] as { embeddings?: boolean }).embeddings !== false);

// Construction only: nothing here may open a connection.
describe("createEmbeddingModel", () => {
  it("builds the local hash embedder for provider local", async () => {
    const model = await createEmbeddingModel({ provider: "local", dimensions: 256 });
    expect(model).toBeInstanceOf(LocalHashEmbeddings);
    expect(model.dimensions).toBe(256);
  });

  it.each(EMBEDDING_PRESETS)("builds an OpenAI-compatible embedder for preset %s from resolved config", async (name) => {
    const config = loadConfig({ EMBEDDINGS_PROVIDER: name, EMBEDDINGS_API_KEY: "sk-unit" });
    const model = await createEmbeddingModel(config.embeddings);
    expect(model).toBeInstanceOf(OpenAICompatibleEmbeddings);
    expect(model.provider).toBe(name);
    expect(model.model).toBe(PROVIDER_PRESETS[name].embeddingModel);
  });

  it("uses configured dimensions in the id", async () => {
    const config = loadConfig({ EMBEDDINGS_PROVIDER: "openai", EMBEDDINGS_API_KEY: "sk-unit", EMBEDDINGS_DIMENSIONS: "512" });
    const model = await createEmbeddingModel(config.embeddings);
    expect(model.dimensions).toBe(512);
    expect(model.id).toBe("openai:text-embedding-3-small:512");
  });

  it("reports dimension 0 until an unconfigured model has been probed", async () => {
    const model = await createEmbeddingModel({
      provider: "ollama",
      model: "bge-m3",
      apiKey: undefined,
      baseURL: "http://127.0.0.1:1/v1",
      batchSize: 8,
      timeoutMs: 1000,
      maxRetries: 0,
    });
    expect(model.dimensions).toBe(0);
    expect(model.id).toBe("ollama:bge-m3:0");
  });
});
