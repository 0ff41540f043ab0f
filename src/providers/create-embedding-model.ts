import type { AppConfig } from "../config/config.ts";
import type { EmbeddingModel } from "./embedding-model.ts";
import { LocalHashEmbeddings } from "./local-embeddings.ts";

/**
 * Turns embedding config into a model factory. Every preset speaks the OpenAI protocol, so presets differ only in data
 * (base URL, model, key) that config has already resolved: there is nothing to switch on here.
 * The OpenAI client stack is imported only when a remote provider is configured: it costs ~0.9 s of start-up that
 * the default offline setup should not pay on every CLI call.
 */
export async function embeddingModelFactory(config: AppConfig["embeddings"]): Promise<() => EmbeddingModel> {
  if (config.provider === "local") return () => new LocalHashEmbeddings({ dimensions: config.dimensions });
  const { OpenAICompatibleEmbeddings } = await import("./openai-compatible-embeddings.ts");
  return () => new OpenAICompatibleEmbeddings(config);
}

export async function createEmbeddingModel(config: AppConfig["embeddings"]): Promise<EmbeddingModel> {
  return (await embeddingModelFactory(config))();
}
