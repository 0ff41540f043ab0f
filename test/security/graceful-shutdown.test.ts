import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { startServer } from "../helpers/server-process.ts";
import { readSse } from "../helpers/sse-client.ts";
import { FIXTURE_CORPUS, tempWorkspace } from "../helpers/temp-kb.ts";

/**
 * A deploy or restart sends SIGTERM: answers being streamed must finish (no truncated answer delivered as if complete),
 * new connections are refused, and the process exits 0 — with `npm start` as users run it.
 */
const REPLY = `星河-7B 的上下文长度是 8192 [1]。${"它是开源模型。".repeat(12)}`;

describe("graceful shutdown on SIGTERM", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ tokenDelayMs: 30, chatReply: () => REPLY });
  });
  afterAll(async () => {
    await fake?.close();
    ws.cleanup();
  });

  it("lets an in-flight streamed answer finish, refuses new connections, then exits 0", async () => {
    const server = startServer({
      DOCS_DIR: ws.docsDir,
      VECTORSTORE_DIR: ws.storeDir,
      LLM_PROVIDER: "openai",
      LLM_BASE_URL: fake.url,
      LLM_API_KEY: "sk-shutdown-test",
    });
    try {
      const url = await server.url;
      const res = await fetch(`${url}/ask`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ question: "星河-7B 的上下文长度是多少？", stream: true }),
      });
      let signalled = false;
      const events = await readSse(res, (e) => {
        if (e.event === "token" && !signalled) {
          signalled = true;
          server.child.kill("SIGTERM");
        }
        return undefined;
      });
      expect(signalled).toBe(true);
      const done = events.at(-1);
      expect(done?.event).toBe("done");
      expect((done?.data as { answer?: string } | undefined)?.answer).toContain("8192");
      expect(await server.exited).toBe(0);
      await expect(fetch(`${url}/health`)).rejects.toThrow();
      expect(server.log()).toContain('"shutting down"');
    } finally {
      server.child.kill("SIGKILL");
    }
  });
});
