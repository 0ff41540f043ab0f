import type { AppConfig } from "../config/config.ts";
import type { KnowledgeBase } from "../knowledge-base/knowledge-base.ts";
import { AnswerService } from "./answer-service.ts";

/**
 * Builds the answerer the configuration asks for: LangChain chains over the configured model, or offline extraction.
 * LangChain and the OpenAI client are imported only when a model is configured (~1 s of start-up offline mode skips).
 */
export async function createAnswerService(kb: KnowledgeBase, config: AppConfig): Promise<AnswerService> {
  if (!config.llm) return new AnswerService(kb, { defaultK: config.topK, llm: null });
  const [{ createChatModel }, { createRagChains }] = await Promise.all([import("../providers/chat-model.ts"), import("./rag-chain.ts")]);
  const model = await createChatModel(config.llm, { streaming: true });
  return new AnswerService(kb, { defaultK: config.topK, llm: { chains: createRagChains(model), config: config.llm } });
}
