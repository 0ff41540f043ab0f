import type { AppConfig } from "../config/config.ts";
import type { KnowledgeBase } from "../knowledge-base/knowledge-base.ts";
import { createChatModel } from "../providers/chat-model.ts";
import { AnswerService } from "./answer-service.ts";

/** Builds the answerer the configuration asks for: a LangChain chain over the configured model, or offline extraction. */
export async function createAnswerService(kb: KnowledgeBase, config: AppConfig): Promise<AnswerService> {
  const llm = config.llm ? { model: await createChatModel(config.llm, { streaming: true }), config: config.llm } : null;
  return new AnswerService(kb, { defaultK: config.topK, llm });
}
