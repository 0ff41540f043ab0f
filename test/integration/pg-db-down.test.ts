import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgliteServer, startPgliteServer } from "../../scripts/pglite-server.ts";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { serveApp } from "../helpers/http-app.ts";
import { startServer } from "../helpers/server-process.ts";
import { SURVEY_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * SECURITY-TESTS 26: the database stops mid-query → the request fails with 503 DB_UNAVAILABLE (no hang, no crash,
 * no DATABASE_URL in the answer), /health says degraded, and once the database is back the same server answers again
 * without a restart.
 */
const ws = tempWorkspace();
let dataDir: string;
let db: PgliteServer;
let kb: KnowledgeBase;
let http: Awaited<ReturnType<typeof serveApp>>;
let stopWatch: () => void;
const PASSWORD = "pw-never-shown-42";

const search = (query: string) =>
  fetch(`${http.url}/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, k: 3 }) });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "kb-pgdata-"));
  db = await startPgliteServer({ dataDir });
  cpSync(SURVEY_CORPUS, ws.docsDir, { recursive: true });
  const url = db.url.replace("postgres@", `postgres:${PASSWORD}@`);
  const config = testConfig(ws.docsDir, ws.storeDir, { VECTOR_STORE: "pgvector", DATABASE_URL: url, PG_POOL_MAX: "4", PG_STATEMENT_TIMEOUT_MS: "3000" });
  kb = await KnowledgeBase.open(config);
  await kb.ingest();
  http = await serveApp(config, kb);
  stopWatch = kb.watchIndex(200);
}, 60_000);

afterAll(async () => {
  stopWatch?.();
  await http?.close();
  await kb?.close();
  await db?.stop();
  ws.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("SECURITY-TESTS 26: the database goes away and comes back", () => {
  it("answers 503 DB_UNAVAILABLE while it is down, reports degraded, and recovers without a restart", async () => {
    expect((await search("GPT-4 上下文长度")).status).toBe(200);

    // Stop it with queries in flight: each ends, 200 or 503, none hangs, and the server stays up.
    const inFlight = Array.from({ length: 20 }, (_, i) => search(`大模型 第 ${i} 个问题`).then((r) => r.status));
    const port = db.port;
    await db.stop();
    const statuses = await Promise.all(inFlight);
    for (const s of statuses) expect([200, 503]).toContain(s);

    const down = await search("GPT-4 上下文长度");
    expect(down.status).toBe(503);
    const body = (await down.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("DB_UNAVAILABLE");
    expect(body.error.message).toMatch(/database .*cannot be reached/i);
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
    expect(JSON.stringify(body)).not.toContain(`:${port}`);
    const ask = await fetch(`${http.url}/ask`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ question: "GPT-4 可以处理多长的输入？" }),
    });
    expect(ask.status).toBe(503);
    await until("/health to say degraded", async () => {
      const h = (await (await fetch(`${http.url}/health`)).json()) as { status: string; message?: string };
      return h.status === "degraded" && /cannot be reached/.test(h.message ?? "");
    });
    expect(http.logs.join("\n")).not.toContain(PASSWORD);

    // Back on the same address, same data: the pool reconnects by itself.
    db = await startPgliteServer({ dataDir, port });
    await until("search to work again", async () => (await search("GPT-4 上下文长度")).status === 200);
    await until("/health to say ok", async () => ((await (await fetch(`${http.url}/health`)).json()) as { status: string }).status === "ok");
    const again = (await (await search("GPT-4 上下文长度")).json()) as { results: { source: string }[] };
    expect(again.results.length).toBeGreaterThan(0);
  }, 60_000);

  it("npm start while the database is down: listens, answers 503 and /health degraded, then serves the published index once the database is up", async () => {
    // The database of the test above (an index is published in it) goes down; a new server process starts meanwhile.
    const port = db.port;
    await db.stop();
    const server = startServer({
      VECTOR_STORE: "pgvector",
      DATABASE_URL: db.url,
      PG_POOL_MAX: "4",
      DOCS_DIR: ws.docsDir,
      VECTORSTORE_DIR: ws.storeDir,
      RATE_LIMIT_PER_MIN: "0",
    });
    try {
      const url = await server.url;
      const h = (await (await fetch(`${url}/health`)).json()) as { status: string; message?: string };
      expect(h.status).toBe("degraded");
      expect(h.message).toMatch(/database .*cannot be reached/i);
      const down = await fetch(`${url}/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "GPT-4" }) });
      expect(down.status).toBe(503);
      expect(((await down.json()) as { error: { code: string } }).error.code).toBe("DB_UNAVAILABLE");

      db = await startPgliteServer({ dataDir, port });
      await until("the server to load the index", async () => ((await (await fetch(`${url}/health`)).json()) as { status: string }).status === "ok");
      const up = await fetch(`${url}/search`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "GPT-4 上下文长度" }),
      });
      expect(up.status).toBe(200);
      expect(server.log()).not.toMatch(/no index yet: building/);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  }, 60_000);
});
