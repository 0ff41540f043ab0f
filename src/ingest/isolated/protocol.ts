import type { ParsedDocument } from "../document.ts";

/**
 * Messages between the parser pool (main thread) and a parse worker. Bytes travel as a transferred ArrayBuffer (no
 * copy); the parsed document comes back as a structured clone. Errors come back as plain data and are turned into
 * AppErrors again on the main side.
 */
export type ParseKind = "pdf" | "html";

export interface ParseRequest {
  id: number;
  kind: ParseKind;
  /** Path relative to the docs folder, for error messages. */
  source: string;
  bytes: Uint8Array;
}

export interface WorkerError {
  /** An AppError code when the loader threw one (PARSE_FAILED for ParseError), else undefined. */
  code?: string;
  status?: number;
  expose?: boolean;
  name: string;
  message: string;
}

export type ParseReply = { id: number; ok: true; doc: ParsedDocument } | { id: number; ok: false; error: WorkerError };

/** The first message a worker sends, once its loaders are imported: the job clock starts after it. */
export interface ReadyMessage {
  ready: true;
}

/** Passed as `workerData`. */
export interface ParseWorkerData {
  /** Tests only: honour the `%KB-TEST-HANG` / `%KB-TEST-OOM` markers (see parse-worker.ts). Never set in production. */
  testHooks?: boolean;
}
