import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedDir } from "../../bench/shared-dir.ts";
import { LOCK_FILE } from "../../src/ingest/rebuild-lock.ts";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { serveApp } from "../helpers/http-app.ts";
import { ROOT, runTs } from "../helpers/run-cli.ts";
import { startServer } from "../helpers/server-process.ts";
import { FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * Rebuilds while the knowledge base is being queried: atomic snapshot swaps in process, pick-up of a build published
 * by another process, and a build killed with SIGKILL half way.
 */
const SHARED = sharedDir();
const NEW_DOCS =
  SHARED && existsSync(join(SHARED, "corpora/prompt-engineering"))
    ? join(SHARED, "corpora/prompt-engineering")
    : join(import.meta.dirname, "../fixtures/new-docs");
const NEW_FILES = readdirSync(NEW_DOCS)
  .filter((f) => f.endsWith(".md"))
  .sort();

/** Copies a tree and makes it writable (the shared corpora are read-only). */
function copyWritable(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const walk = (p: string): void => {
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(to);
}

function currentName(storeDir: string): string {
  return readFileSync(join(storeDir, "CURRENT"), "utf8").trim();
}

interface SearchResult {
  id: string;
  source: string;
  score: number;
  text: string;
}

async function postSearch(url: string, query: string, k = 5): Promise<{ status: number; results: SearchResult[]; error?: string }> {
  try {
    const res = await fetch(`${url}/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, k }) });
    const body = (await res.json()) as { results?: SearchResult[]; error?: unknown };
    return { status: res.status, results: body.results ?? [], ...(res.ok ? {} : { error: JSON.stringify(body) }) };
  } catch (err) {
    return { status: 0, results: [], error: String(err) };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("queries during back-to-back rebuilds (in-process server)", () => {
  it("10 rebuilds under 4 concurrent /search clients: every query succeeds with results from the old or the new version", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    try {
      const toggled = NEW_FILES[0] as string;
      copyWritable(NEW_DOCS, join(ws.docsDir, "new"));
      const toggledPath = join(ws.docsDir, "new", toggled);
      const toggledText = readFileSync(toggledPath);
      rmSync(toggledPath);

      const config = testConfig(ws.docsDir, ws.storeDir);
      const kb = await KnowledgeBase.open(config);
      await kb.ingest();
      // The chunks of every version that was published: each response must come whole from one of them.
      const versions: Map<string, string>[] = [];
      const remember = () => versions.push(new Map((kb.index?.chunks ?? []).map((c) => [c.id, c.source])));
      remember();
      const allowedSources = new Set([...(kb.index?.chunks ?? []).map((c) => c.source), `new/${toggled}`]);

      const server = await serveApp(config, kb);
      const queries = [
        "星河-7B 的上下文长度是多少？",
        "When was Orion 2 70B released?",
        readFileSync(join(NEW_DOCS, toggled), "utf8").slice(0, 400),
        readFileSync(join(NEW_DOCS, NEW_FILES[1] as string), "utf8").slice(0, 200),
        "提示 原则 示例",
      ];
      const responses: (Awaited<ReturnType<typeof postSearch>> & { duringBuild: boolean })[] = [];
      let stop = false;
      let building = false;
      const client = async (offset: number) => {
        // Bounded: even if rebuilds stalled, a client stops after this many requests.
        for (let i = 0; !stop && i < 3000; i++) {
          const r = await postSearch(server.url, queries[(offset + i) % queries.length] ?? "模型");
          responses.push({ ...r, duringBuild: building });
        }
      };
      try {
        const clients = [0, 1, 2, 3].map((n) => client(n));
        const builds: { published: boolean; buildId: string }[] = [];
        for (let i = 0; i < 10; i++) {
          if (i % 2 === 0) writeFileSync(toggledPath, toggledText);
          else rmSync(toggledPath);
          building = true;
          const s = await kb.ingest().finally(() => {
            building = false;
          });
          remember();
          builds.push(s);
          // Let the clients run a few requests against each version.
          await sleep(30);
        }
        stop = true;
        await Promise.all(clients);
        expect(builds.every((b) => b.published)).toBe(true);
        expect(new Set(builds.map((b) => b.buildId)).size).toBe(10);
      } finally {
        stop = true;
        await server.close();
      }

      expect(responses.length).toBeGreaterThan(40);
      // The builds yield to the event loop, so queries are answered while they run, not only between them.
      expect(responses.filter((r) => r.duringBuild).length).toBeGreaterThan(0);
      const failures = responses.filter((r) => r.status !== 200);
      expect(failures.slice(0, 3)).toEqual([]);
      const problems: string[] = [];
      for (const r of responses) {
        if (r.results.length === 0) problems.push("no results");
        const ids = r.results.map((h) => h.id);
        if (new Set(ids).size !== ids.length) problems.push("duplicate ids");
        for (const [i, h] of r.results.entries()) {
          if (!allowedSources.has(h.source)) problems.push(`unknown source ${h.source}`);
          if (i > 0 && h.score > (r.results[i - 1]?.score ?? Infinity)) problems.push("results out of order");
        }
        if (!versions.some((v) => r.results.every((h) => v.get(h.id) === h.source))) problems.push(`results from no single version: ${ids.join(",")}`);
      }
      expect(problems.slice(0, 5)).toEqual([]);
      // Old index folders are cleaned up as builds go: the published one plus the one it replaced, at most.
      expect(readdirSync(ws.storeDir).filter((e) => e.startsWith("index-")).length).toBeLessThanOrEqual(2);
    } finally {
      ws.cleanup();
    }
  }, 30_000);
});

describe("a running server and a CLI build", () => {
  it("the server serves an index the CLI published, without a restart, within a few seconds", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    const server = startServer({ DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir });
    try {
      const url = await server.url;
      const question = "琥珀星云望远镜的主镜口径是多少？";
      const before = await postSearch(url, question, 3);
      expect(before.status).toBe(200);
      expect(before.results.some((r) => r.source === "telescope.md")).toBe(false);

      writeFileSync(
        join(ws.docsDir, "telescope.md"),
        "# 琥珀星云望远镜\n\n琥珀星云望远镜是一台虚构的望远镜，它的主镜口径为 9.7 米，安装在海拔 4200 米的山顶。\n",
      );
      const cli = await runTs("src/cli/main.ts", ["ingest"], { DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir });
      // Exit 2: the fixture corpus's broken PDF is reported; the index is published anyway.
      expect(cli.code, cli.stderr).toBe(2);
      expect(cli.stdout).toMatch(/Incremental build: 4 files \(added 1, changed 0, removed 0, unchanged 3\).*embedded 1, reused 0/);

      const published = Date.now();
      let found: SearchResult | undefined;
      while (!found && Date.now() - published < 5000) {
        const r = await postSearch(url, question, 3);
        expect(r.status).toBe(200);
        found = r.results[0]?.source === "telescope.md" ? r.results[0] : undefined;
        if (!found) await sleep(100);
      }
      expect(found?.text).toContain("9.7 米");
      expect(server.log()).toMatch(/"msg":"index reloaded"/);
      const health = (await (await fetch(`${url}/health`)).json()) as { index: { documents: number } };
      expect(health.index.documents).toBe(4);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
      ws.cleanup();
    }
  }, 30_000);
});

describe("a rebuild killed with SIGKILL", () => {
  it("leaves the old index published; its stale lock and leftovers are taken over and removed by the next ingest", async () => {
    const ws = tempWorkspace(FIXTURE_CORPUS);
    let child: ChildProcess | undefined;
    try {
      const config = testConfig(ws.docsDir, ws.storeDir);
      const first = await (await KnowledgeBase.open(config)).ingest();
      const published = currentName(ws.storeDir);
      copyWritable(NEW_DOCS, join(ws.docsDir, "new"));

      // `node --import tsx` runs the script in this very process, so the pid we kill is the one holding the lock.
      const proc = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/helpers/slow-ingest.ts")], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir, EMBED_DELAY_MS: "60000" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = proc;
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on("exit", (_code, signal) => resolve(signal)));
      let out = "";
      let err = "";
      proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (/"phase":"embed"/.test(out)) resolve();
        });
        proc.on("exit", () => reject(new Error(`slow ingest exited early:\n${out}\n${err}`)));
      });
      const lock = JSON.parse(readFileSync(join(ws.storeDir, LOCK_FILE), "utf8")) as { pid: number };
      expect(lock.pid).toBe(proc.pid);
      proc.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");

      // The killed build published nothing: the lock file is left behind, CURRENT still names the old index.
      expect(existsSync(join(ws.storeDir, LOCK_FILE))).toBe(true);
      expect(currentName(ws.storeDir)).toBe(published);
      // A kill during the write phase would also leave a temp folder and a pointer temp file; readers ignore both.
      mkdirSync(join(ws.storeDir, ".tmp-20260101000000-dead01"));
      copyFileSync(join(ws.storeDir, published, "manifest.json"), join(ws.storeDir, ".tmp-20260101000000-dead01", "manifest.json"));
      writeFileSync(join(ws.storeDir, "CURRENT.20260101000000-dead01.tmp"), "index-20260101000000-dead01\n");

      const reader = await KnowledgeBase.open(config);
      await reader.load();
      expect(reader.index?.manifest.buildId).toBe(first.buildId);
      expect((await reader.search("星河-7B 的上下文长度是多少？", 1))[0]?.source).toBe("models.md");

      // The next ingest takes the stale lock over, cleans up and publishes.
      const next = await reader.ingest();
      expect(next).toMatchObject({ published: true, filesAdded: NEW_FILES.length, filesUnchanged: 3 });
      const entries = readdirSync(ws.storeDir);
      expect(entries.filter((e) => e.startsWith(".tmp-") || e.endsWith(".tmp") || e === LOCK_FILE)).toEqual([]);
      expect(currentName(ws.storeDir)).not.toBe(published);
      expect(reader.index?.manifest.buildId).toBe(next.buildId);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      ws.cleanup();
    }
  }, 30_000);
});
