import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { AppConfig } from "../../src/config/config.ts";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { createApp } from "../../server/create-app.ts";
import { createAnswerService } from "../../src/answer/create-answer-service.ts";
import { RebuildJobs } from "../../src/ingest/rebuild-jobs.ts";
import { createLogger } from "../../server/logger.ts";

/**
 * Serves createApp on 127.0.0.1, port 0. Log lines are collected instead of printed. `opts.jobs` replaces the rebuild
 * jobs (e.g. one whose rebuild waits on the test, to hold a rebuild "running").
 */
export async function serveApp(
  config: AppConfig,
  kb: KnowledgeBase,
  opts: { jobs?: RebuildJobs } = {},
): Promise<{ url: string; logs: string[]; jobs: RebuildJobs; close: () => Promise<void> }> {
  const logs: string[] = [];
  const answers = await createAnswerService(kb, config);
  const llm = config.llm ? { provider: config.llm.provider, model: config.llm.model } : null;
  const jobs = opts.jobs ?? new RebuildJobs(({ full, onProgress }) => kb.ingest({ full, onProgress }));
  const app = createApp({ config, kb, logger: createLogger("info", (l) => logs.push(l)), llm, answers, jobs });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logs,
    jobs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
