import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURE_CORPUS, tempWorkspace } from "../helpers/temp-kb.ts";
import { startServer } from "../helpers/server-process.ts";

describe("npm start (server/start-server.ts)", () => {
  it("builds the index on first start, serves /health and /search, and exits 0 on SIGTERM", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      const server = startServer({ DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir });
      const url = await server.url;
      expect(server.log()).toMatch(/no index yet: building it/);
      expect(existsSync(join(ws.storeDir, "CURRENT"))).toBe(true);
      const health = (await (await fetch(`${url}/health`)).json()) as { status: string; index: { documents: number } };
      expect(health).toMatchObject({ status: "ok", index: { documents: 3 } });
      const res = await fetch(`${url}/search`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "星河-7B 参数量" }),
      });
      expect(res.status).toBe(200);
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);

      // Second start: the index exists and is loaded, not rebuilt.
      const again = startServer({ DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir });
      await again.url;
      expect(again.log()).not.toMatch(/building it/);
      again.child.kill("SIGTERM");
      expect(await again.exited).toBe(0);
    } finally {
      ws.cleanup();
    }
  }, 60_000);

  it("refuses to start with invalid configuration, listing the bad keys", async () => {
    const server = startServer({ PORT: "99999", LLM_PROVIDER: "qwen" });
    await expect(server.url).rejects.toThrow(/CONFIG_INVALID[\s\S]*PORT[\s\S]*LLM_API_KEY/);
    expect(await server.exited).toBe(1);
  }, 30_000);
});

describe("npm start with WEB_CONCURRENCY=2", () => {
  it("serves from two worker processes and stops them all on SIGTERM", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      const server = startServer({ DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir, WEB_CONCURRENCY: "2" });
      const url = await server.url;
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          fetch(`${url}/ask`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ question: "星河-7B 的上下文长度" }),
          }).then((r) => r.json() as Promise<{ found: boolean }>),
        ),
      );
      expect(results.every((r) => r.found)).toBe(true);
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      ws.cleanup();
    }
  }, 60_000);
});
