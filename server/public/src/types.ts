/** Shapes of the server's JSON (see the README's HTTP API section). */

export interface Source {
  id: string;
  source: string;
  title: string;
  page?: number;
  headings: string[];
  snippet: string;
  score: number;
}

export interface AskResult {
  answer: string;
  found: boolean;
  sources: Source[];
  mode: "llm" | "extractive";
  model: string;
  timings: { retrievalMs: number; generationMs: number };
}

export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

export interface Health {
  status: "ok" | "degraded";
  message?: string;
  index: { documents: number; chunks: number; builtAt: string | null };
  llm: { provider: string; model: string } | null;
  writes?: "enabled" | "disabled";
}

export interface DocumentInfo {
  id: string;
  source: string;
  title: string;
  format?: string;
  chunks: number;
  bytes: number;
  updatedAt: string;
}

export interface IngestSummary {
  files: number;
  filesAdded: number;
  filesChanged: number;
  filesRemoved: number;
  chunks: number;
  embedded: number;
  reused: number;
  removed: number;
  failed: { source: string; error: string }[];
  seconds: number;
  published: boolean;
}

export interface RebuildJob {
  id: string;
  state: "queued" | "running" | "succeeded" | "failed";
  progress: { done: number; total: number; phase: string };
  summary?: IngestSummary;
  error?: { code: string; message: string };
}

/** 202 from POST /documents, DELETE /documents/:id and POST /index/rebuild. */
export interface WriteAccepted {
  jobId: string | null;
  message?: string;
  documents?: { source: string; bytes: number }[];
  deleted?: { id: string; source: string };
}

/** Chat messages and conversations as the page keeps them (localStorage). */
export type MessageState = "streaming" | "done" | "stopped" | "error";

export interface StoredMessage {
  id: string;
  role: "user" | "assistant";
  /** The question, or the answer's Markdown (partial when stopped or failed mid-way). */
  content: string;
  state?: MessageState;
  found?: boolean;
  sources?: Source[];
  error?: { message: string; code?: string };
  model?: string;
  mode?: "llm" | "extractive";
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messages: StoredMessage[];
}
