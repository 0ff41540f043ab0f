import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PgliteServer, startPgliteServer } from "../../scripts/pglite-server.ts";
import { startServer } from "../helpers/server-process.ts";
import { SURVEY_CORPUS, tempWorkspace } from "../helpers/temp-kb.ts";
import { cpSync } from "node:fs";

/**
 * Scale-out, end to end: two `npm start` processes (replicas behind a load balancer) on one PostgreSQL + pgvector
 * database (PGlite served over the wire protocol on loopback), sharing DOCS_DIR as a shared volume would. A rebuild
 * started through one replica is published to both; the other picks it up without a restart.
 */
const TOKEN = "replica-admin-token-0123456789";
const FACT = "琥珀-9 冷却塔的额定功率是 7,350 千瓦。";
const QUESTION = "琥珀-9 冷却塔的额定功率是多少？";

let db: PgliteServer;
let dataDir: string;
const ws = tempWorkspace();
let a: ReturnType<typeof startServer>;
let b: ReturnType<typeof startServer>;
let urlA: string;
let urlB: string;

const env = () => ({
  VECTOR_STORE: "pgvector",
  DATABASE_URL: db.url,
  PG_POOL_MAX: "4",
  DOCS_DIR: ws.docsDir,
  VECTORSTORE_DIR: ws.storeDir,
  ADMIN_TOKEN: TOKEN,
  RATE_LIMIT_PER_MIN: "0",
});

async function ask(
  url: string,
  question: string,
): Promise<{ status: number; body: { found?: boolean; sources?: { source: string }[]; error?: { code: string } } }> {
  const res = await fetch(`${url}/ask`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question }) });
  return { status: res.status, body: (await res.json()) as Awaited<ReturnType<typeof ask>>["body"] };
}

type Health = { status: string; index: { chunks: number } };
const health = async (url: string): Promise<Health> => (await (await fetch(`${url}/health`)).json()) as Health;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "kb-pgdata-"));
  db = await startPgliteServer({ dataDir });
  cpSync(SURVEY_CORPUS, ws.docsDir, { recursive: true });
  // Replica A builds the index at start-up (nothing published yet); B starts after and only loads it.
  a = startServer(env());
  urlA = await a.url;
  b = startServer(env());
  urlB = await b.url;
}, 120_000);

afterAll(async () => {
  a?.child.kill("SIGTERM");
  b?.child.kill("SIGTERM");
  await Promise.all([a?.exited, b?.exited]);
  await db?.stop();
  ws.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("two server replicas on one pgvector database", () => {
  it("both answer from the same published index", async () => {
    const [ha, hb] = await Promise.all([health(urlA), health(urlB)]);
    expect(ha.status).toBe("ok");
    expect(hb.status).toBe("ok");
    expect(hb.index).toEqual(ha.index);
    expect(ha.index.chunks).toBeGreaterThan(100);
    const q = "GPT-4 可以处理多长的输入？";
    const [ra, rb] = await Promise.all([ask(urlA, q), ask(urlB, q)]);
    expect(ra.body.found).toBe(true);
    expect(rb.body).toMatchObject({ found: true });
    expect(rb.body.sources?.map((s) => s.source)).toEqual(ra.body.sources?.map((s) => s.source));
    expect(b.log()).not.toMatch(/no index yet: building/);
  });

  it("a rebuild started through replica A is served by replica B without a restart; a second rebuild meanwhile is 409", async () => {
    expect((await ask(urlB, QUESTION)).body.found).toBe(false);
    writeFileSync(join(ws.docsDir, "cooling.md"), `# 冷却塔\n\n${FACT}\n`);
    const started = await fetch(`${urlA}/index/rebuild`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    // The database holds the rebuild lock: replica B refuses to start another build while A's runs.
    const second = await fetch(`${urlB}/index/rebuild`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    const secondBody = (await second.json()) as { jobId?: string };
    if (second.status === 202 && secondBody.jobId) {
      // B's job was accepted (jobs are per process) and must then fail on the database lock — unless A had already finished.
      const job = await until("B's job to end", async () => {
        const j = (await (await fetch(`${urlB}/index/jobs/${secondBody.jobId}`)).json()) as { state: string; error?: { code: string } };
        return j.state === "succeeded" || j.state === "failed" ? j : undefined;
      });
      if (job.state === "failed") expect(JSON.stringify(job.error)).toMatch(/REBUILD_IN_PROGRESS|already running/);
    } else {
      expect(second.status).toBe(409);
    }
    const done = await until("A's rebuild", async () => {
      const j = (await (await fetch(`${urlA}/index/jobs/${jobId}`)).json()) as { state: string };
      return j.state === "succeeded" || j.state === "failed" ? j : undefined;
    });
    expect(done.state).toBe("succeeded");
    const onB = await until("replica B to answer the new fact", async () => {
      const r = await ask(urlB, QUESTION);
      return r.body.found ? r : undefined;
    });
    expect(onB.body.sources?.[0]?.source).toBe("cooling.md");
    expect(b.log()).toMatch(/"msg":"index reloaded"/);
    const [ha, hb] = await Promise.all([health(urlA), health(urlB)]);
    expect(hb.index).toEqual(ha.index);
  }, 60_000);
});
