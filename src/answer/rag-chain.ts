import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import type { Runnable } from "@langchain/core/runnables";
import { HUMAN_TEMPLATE, REWRITE_PROMPT, SYSTEM_PROMPT } from "./prompts.ts";
import type { ChatTurn } from "./types.ts";

/** Earlier turns passed to the model: enough for follow-ups, bounded so a long chat cannot blow the context. */
const MAX_HISTORY_TURNS = 6;
const MAX_HISTORY_CHARS = 4000;

export function historyMessages(history: readonly ChatTurn[] = []): BaseMessage[] {
  const recent: ChatTurn[] = [];
  let chars = 0;
  for (const turn of [...history].reverse().slice(0, MAX_HISTORY_TURNS)) {
    if (chars + turn.content.length > MAX_HISTORY_CHARS) break;
    chars += turn.content.length;
    recent.unshift(turn);
  }
  return recent.map((t) => (t.role === "user" ? new HumanMessage(t.content) : new AIMessage(t.content)));
}

/**
 * The answer chain (LCEL): prompt (system rules + history + numbered sources + question) → chat model → string.
 * Retrieval runs before it, in our retriever, so the sources can be sent to the client before the first token.
 */
export function createAnswerChain(model: BaseChatModel): Runnable<{ context: string; question: string; history: BaseMessage[] }, string> {
  const prompt = ChatPromptTemplate.fromMessages([["system", SYSTEM_PROMPT], new MessagesPlaceholder("history"), ["human", HUMAN_TEMPLATE]]);
  return prompt.pipe(model).pipe(new StringOutputParser());
}

/** Follow-up → standalone question, so retrieval sees "LLaMA 2 的参数量" rather than "它的参数量呢？". */
export function createRewriteChain(model: BaseChatModel): Runnable<{ question: string; history: BaseMessage[] }, string> {
  const prompt = ChatPromptTemplate.fromMessages([["system", REWRITE_PROMPT], new MessagesPlaceholder("history"), ["human", "{question}"]]);
  return prompt.pipe(model).pipe(new StringOutputParser());
}

/** The two model calls the answer service makes, behind plain functions so it needs no LangChain types. */
export interface RagChains {
  answer(input: { context: string; question: string; history: readonly ChatTurn[] }, signal: AbortSignal): Promise<AsyncIterable<string>>;
  rewrite(input: { question: string; history: readonly ChatTurn[] }, signal: AbortSignal): Promise<string>;
}

export function createRagChains(model: BaseChatModel): RagChains {
  const answerChain = createAnswerChain(model);
  const rewriteChain = createRewriteChain(model);
  return {
    answer: (input, signal) => answerChain.stream({ ...input, history: historyMessages(input.history) }, { signal }),
    // Streamed and joined, not `.invoke()`d: invoking a streaming ChatOpenAI estimates token usage with tiktoken, which
    // downloads its BPE table from tiktoken.pages.dev — a host nobody configured, and offline it stalls to the deadline.
    rewrite: async (input, signal) => {
      let text = "";
      for await (const piece of await rewriteChain.stream({ ...input, history: historyMessages(input.history) }, { signal })) text += piece;
      return text;
    },
  };
}
