import type { AnswerService } from "../src/answer/answer-service.ts";
import type { AppConfig } from "../src/config/config.ts";
import type { RebuildJobs } from "../src/ingest/rebuild-jobs.ts";
import type { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import type { Logger } from "./logger.ts";

/** Everything the HTTP layer needs, built by the composition root (start-server.ts) or by a test. */
export interface AppDeps {
  config: AppConfig;
  kb: KnowledgeBase;
  logger: Logger;
  llm: { provider: string; model: string } | null;
  answers: AnswerService;
  /** Rebuilds started over HTTP; optional so read-only embeddings of the app need not provide it. */
  jobs?: RebuildJobs;
}
