import type { AppConfig } from "../config/config.ts";
import type { EmbeddingModel } from "./embedding-model.ts";
import { LocalHashEmbeddings } from "./local-embeddings.ts";
import { OpenAICompatibleEmbeddings } from "./openai-compatible-embeddings.ts";

/**
 * The one place that turns embedding config into a model. Every preset speaks the OpenAI protocol, so presets differ
 * only in data (base URL, model, key) that config has already resolved: there is nothing to switch on here.
 */
export function createEmbeddingModel(config: AppConfig["embeddings"]): EmbeddingModel {
  if (config.provider === "local") return new LocalHashEmbeddings({ dimensions: config.dimensions });
  return new OpenAICompatibleEmbeddings(config);
}
