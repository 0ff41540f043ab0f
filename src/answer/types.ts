import type { SearchHit } from "../knowledge-base/knowledge-base.ts";

export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

export interface AskRequest {
  question: string;
  k?: number;
  history?: ChatTurn[];
  signal?: AbortSignal;
}

/** A cited chunk: `[n]` in the answer refers to `sources[n - 1]`. */
export type AnswerSource = Omit<SearchHit, "text">;

export interface AskResponse {
  answer: string;
  found: boolean;
  sources: AnswerSource[];
  mode: "llm" | "extractive";
  /** `provider:model`, or `local` for the extractive answerer. */
  model: string;
  timings: { retrievalMs: number; generationMs: number };
}

/** Streaming callbacks: sources once (before any token), then tokens as they arrive. */
export interface AskHandlers {
  onSources?(sources: AnswerSource[]): void;
  onToken?(text: string): void;
}
