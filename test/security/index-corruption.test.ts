/**
 * SECURITY-TESTS 17 and 19: a damaged or mismatched index on disk. Whatever is wrong, the server starts (never
 * crashes, never builds over the damaged store on its own), GET /health says `degraded` with a message naming the
 * problem and the command that fixes it, /ask and /search answer 503 with a code, nothing on disk is touched, and a
 * rebuild over HTTP brings it back to `ok` without a restart.
 *
 * Most cases run in-process (KnowledgeBase.open + tryLoad, as start-server's prepareIndex does, + createApp); one
 * runs `npm start`'s entry as a child process. The index is built once and copied per case.
 */
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import type { Tokenizer } from "../../src/text/tokenizer.ts";
import { serveApp } from "../helpers/http-app.ts";
import { startServer } from "../helpers/server-process.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

const TOKEN = "corruption-admin-token-7Kp2";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const FIX = /npm run ingest -- --full/;
const QUESTION = "星河-7B 的上下文长度是多少？";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

interface Where {
  store: string;
  /** The published index folder. */
  index: string;
}

interface Case {
  name: string;
  corrupt: (w: Where) => void;
  code: "INDEX_CORRUPT" | "INDEX_MISMATCH";
  /** What the message must name. */
  problem: RegExp;
  /** Extra configuration for the server (a changed embedding setting). */
  env?: Record<string, string>;
}

const at = (w: Where, file: string) => join(w.index, file);
const truncateHalf = (file: string) => writeFileSync(file, readFileSync(file).subarray(0, Math.floor(statSync(file).size / 2)));
const editManifest = (w: Where, edit: (m: any) => void) => {
  const m = JSON.parse(readFileSync(at(w, "manifest.json"), "utf8"));
  edit(m);
  writeFileSync(at(w, "manifest.json"), JSON.stringify(m, null, 2));
};
/** The manifest's checksum updated to match a modified file: only the later checks stand between it and the server. */
const forgeChecksum = (w: Where, file: string) => editManifest(w, (m) => (m.checksums[file] = sha256(readFileSync(at(w, file)))));
const dropOneChunk = (w: Where) => {
  const chunks = JSON.parse(readFileSync(at(w, "chunks.json"), "utf8")) as unknown[];
  writeFileSync(at(w, "chunks.json"), JSON.stringify(chunks.slice(1)));
};

const CASES: Case[] = [
  {
    name: "hnsw.bin replaced by random bytes",
    corrupt: (w) => writeFileSync(at(w, "hnsw.bin"), randomBytes(statSync(at(w, "hnsw.bin")).size)),
    code: "INDEX_CORRUPT",
    problem: /hnsw\.bin.*checksum/,
  },
  { name: "hnsw.bin truncated to half", corrupt: (w) => truncateHalf(at(w, "hnsw.bin")), code: "INDEX_CORRUPT", problem: /hnsw\.bin.*checksum/ },
  { name: "hnsw.bin emptied", corrupt: (w) => writeFileSync(at(w, "hnsw.bin"), ""), code: "INDEX_CORRUPT", problem: /hnsw\.bin.*checksum/ },
  {
    name: "hnsw.bin random bytes with a forged checksum (never handed to hnswlib)",
    corrupt: (w) => {
      writeFileSync(at(w, "hnsw.bin"), randomBytes(statSync(at(w, "hnsw.bin")).size));
      forgeChecksum(w, "hnsw.bin");
    },
    code: "INDEX_CORRUPT",
    problem: /hnsw\.bin does not have the layout/,
  },
  {
    name: "hnsw.bin truncated with a forged checksum",
    corrupt: (w) => {
      truncateHalf(at(w, "hnsw.bin"));
      forgeChecksum(w, "hnsw.bin");
    },
    code: "INDEX_CORRUPT",
    problem: /hnsw\.bin is truncated/,
  },
  {
    name: "manifest dimensions edited (the graph holds other vectors)",
    corrupt: (w) => editManifest(w, (m) => (m.embeddings.dimensions = 512)),
    code: "INDEX_CORRUPT",
    problem: /hnsw\.bin does not have the layout of a 512-dimensional/,
  },
  { name: "chunks.json (docstore) truncated", corrupt: (w) => truncateHalf(at(w, "chunks.json")), code: "INDEX_CORRUPT", problem: /chunks\.json.*checksum/ },
  {
    name: "chunks.json invalid JSON",
    corrupt: (w) => writeFileSync(at(w, "chunks.json"), "[{not json"),
    code: "INDEX_CORRUPT",
    problem: /chunks\.json.*checksum/,
  },
  { name: "chunks.json valid JSON with one chunk removed", corrupt: dropOneChunk, code: "INDEX_CORRUPT", problem: /chunks\.json.*checksum/ },
  {
    name: "chunks.json one chunk removed, checksum forged (counts disagree with the manifest)",
    corrupt: (w) => {
      dropOneChunk(w);
      forgeChecksum(w, "chunks.json");
    },
    code: "INDEX_CORRUPT",
    problem: /counts disagree/,
  },
  {
    name: "chunks.json invalid JSON, checksum forged",
    corrupt: (w) => {
      writeFileSync(at(w, "chunks.json"), "[{not json");
      forgeChecksum(w, "chunks.json");
    },
    code: "INDEX_CORRUPT",
    problem: /could not be read.*JSON/,
  },
  { name: "lexical.json truncated", corrupt: (w) => truncateHalf(at(w, "lexical.json")), code: "INDEX_CORRUPT", problem: /lexical\.json.*checksum/ },
  { name: "embedder.json truncated", corrupt: (w) => truncateHalf(at(w, "embedder.json")), code: "INDEX_CORRUPT", problem: /embedder\.json.*checksum/ },
  {
    name: "manifest.json invalid JSON",
    corrupt: (w) => writeFileSync(at(w, "manifest.json"), "{ this is not json"),
    code: "INDEX_CORRUPT",
    problem: /manifest.*unreadable/,
  },
  { name: "manifest.json truncated", corrupt: (w) => truncateHalf(at(w, "manifest.json")), code: "INDEX_CORRUPT", problem: /manifest.*unreadable/ },
  {
    name: "manifest.json missing fields",
    corrupt: (w) => writeFileSync(at(w, "manifest.json"), '{"schemaVersion": 1}'),
    code: "INDEX_CORRUPT",
    problem: /manifest.*unreadable/,
  },
  { name: "manifest.json deleted", corrupt: (w) => rmSync(at(w, "manifest.json")), code: "INDEX_CORRUPT", problem: /has no manifest/ },
  {
    name: "manifest.json with another schema version",
    corrupt: (w) => editManifest(w, (m) => (m.schemaVersion = 99)),
    code: "INDEX_MISMATCH",
    problem: /another version of this program \(schema 99/,
  },
  {
    name: "manifest.json checksum mismatch",
    corrupt: (w) => editManifest(w, (m) => (m.checksums["hnsw.bin"] = "0".repeat(64))),
    code: "INDEX_CORRUPT",
    problem: /hnsw\.bin does not match its checksum/,
  },
  {
    name: "manifest.json listing a file outside the index",
    corrupt: (w) => editManifest(w, (m) => (m.checksums["../../../etc/passwd"] = "0".repeat(64))),
    code: "INDEX_CORRUPT",
    problem: /unexpected file/,
  },
  {
    name: "manifest.json chunk count edited",
    corrupt: (w) => editManifest(w, (m) => (m.counts.chunks += 1)),
    code: "INDEX_CORRUPT",
    problem: /counts disagree/,
  },
  {
    name: "CURRENT pointing at a missing folder",
    corrupt: (w) => writeFileSync(join(w.store, "CURRENT"), "index-20990101000000-abcdef\n"),
    code: "INDEX_CORRUPT",
    problem: /CURRENT names the index folder index-20990101000000-abcdef, which does not exist/,
  },
  {
    name: "CURRENT containing ../../etc",
    corrupt: (w) => writeFileSync(join(w.store, "CURRENT"), "../../etc\n"),
    code: "INDEX_CORRUPT",
    problem: /CURRENT.*does not name an index folder/,
  },
  {
    name: "CURRENT emptied",
    corrupt: (w) => writeFileSync(join(w.store, "CURRENT"), ""),
    code: "INDEX_CORRUPT",
    problem: /CURRENT.*does not name an index folder/,
  },
  // SECURITY-TESTS 19: nothing is damaged, the configuration changed since the build.
  {
    name: "embedding dimensions changed since the build",
    corrupt: () => {},
    env: { EMBEDDINGS_DIMENSIONS: "256" },
    code: "INDEX_MISMATCH",
    problem: /dimensions 1024 → 256/,
  },
  {
    name: "embedding model changed since the build",
    corrupt: (w) => editManifest(w, (m) => (m.embeddings.model = "text-embedding-3-small")),
    code: "INDEX_MISMATCH",
    problem: /model text-embedding-3-small → hash-tfidf-v1/,
  },
];

/** Every file below `dir` with its sha256: proof that serving a damaged store changed nothing in it. */
function storeState(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(`${relative(dir, full)} ${sha256(readFileSync(full))}`);
    }
  };
  walk(dir);
  return out.sort();
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

async function waitForJob(url: string, jobId: string): Promise<any> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const job = (await (await fetch(`${url}/index/jobs/${jobId}`)).json()) as any;
    if (job.state === "succeeded" || job.state === "failed") return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("SECURITY-TESTS 17/19: a damaged or mismatched index → degraded, 503s, recovery by a rebuild", () => {
  const golden = tempWorkspace(FIXTURE_CORPUS);
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    tokenizer = (await builtKnowledgeBase(golden.docsDir, golden.storeDir)).tokenizer;
  });
  afterAll(() => golden.cleanup());

  /** A copy of the built docs and store, damaged by `corrupt`. */
  function damagedCopy(corrupt: Case["corrupt"]) {
    const ws = tempWorkspace();
    cpSync(golden.docsDir, ws.docsDir, { recursive: true });
    cpSync(golden.storeDir, ws.storeDir, { recursive: true });
    const current = readFileSync(join(ws.storeDir, "CURRENT"), "utf8").trim();
    corrupt({ store: ws.storeDir, index: join(ws.storeDir, current) });
    return ws;
  }

  it.each(CASES)("$name", async (c) => {
    const ws = damagedCopy(c.corrupt);
    const before = storeState(ws.storeDir);
    const config = testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN, ...c.env });
    const kb = await KnowledgeBase.open(config, { tokenizer });
    // What start-server's prepareIndex does: build only when nothing is published at all, else tryLoad. A damaged
    // store counts as published, so it is reported, never built over.
    expect(await kb.hasPublishedIndex()).toBe(true);
    expect(await kb.tryLoad()).toBe(false);
    const http = await serveApp(config, kb);
    try {
      const health = (await (await fetch(`${http.url}/health`)).json()) as any;
      expect(health.status).toBe("degraded");
      expect(health.message).toMatch(c.problem);
      expect(health.message).toMatch(FIX);
      expect(health.message).not.toContain(ws.root); // the server's paths stay in its logs

      for (const [path, body] of [
        ["/search", { query: QUESTION }],
        ["/ask", { question: QUESTION }],
      ] as const) {
        const res = await post(http.url, path, body);
        const text = await res.text();
        expect(res.status, `${path}: ${text}`).toBe(503);
        const error = JSON.parse(text).error;
        expect(error.code).toBe(c.code);
        expect(error.message).toMatch(c.problem);
        expect(error.message).toMatch(FIX);
        expect(text).not.toMatch(/\bat .*\.ts:\d+|node_modules|stack/);
      }
      const stream = await post(http.url, "/ask", { question: QUESTION, stream: true });
      expect(await stream.text()).toMatch(new RegExp(`event: error\\ndata: \\{"error":\\{"code":"${c.code}"`));

      // The poller does not retry (or clear) a failed folder on every tick; nothing on disk was touched.
      expect(await kb.reloadIfChanged()).toBe(false);
      expect(kb.status().status).toBe("degraded");
      expect(storeState(ws.storeDir)).toEqual(before);

      // The fix the message names, over HTTP: a full rebuild; the server recovers without a restart.
      const started = await post(http.url, "/index/rebuild", { full: true }, AUTH);
      expect(started.status).toBe(202);
      const job = await waitForJob(http.url, ((await started.json()) as any).jobId);
      expect(job.state, JSON.stringify(job.error)).toBe("succeeded");
      const healed = (await (await fetch(`${http.url}/health`)).json()) as any;
      expect(healed.status).toBe("ok");
      expect(healed.message).toBeUndefined();
      const search = await post(http.url, "/search", { query: QUESTION, k: 3 });
      expect(search.status).toBe(200);
      expect(((await search.json()) as any).results[0]?.source).toBe("models.md");
      expect(readFileSync(join(ws.storeDir, "CURRENT"), "utf8")).toMatch(/^index-/);
    } finally {
      await http.close();
      ws.cleanup();
    }
  });

  it.each([
    { name: "hnsw.bin truncated", corrupt: (w: Where) => truncateHalf(at(w, "hnsw.bin")) },
    { name: "CURRENT containing ../../etc", corrupt: (w: Where) => writeFileSync(join(w.store, "CURRENT"), "../../etc\n") },
  ])("$name: a degraded server picks up the index the CLI then publishes, without a restart", async ({ corrupt }) => {
    const ws = damagedCopy(corrupt);
    try {
      const config = testConfig(ws.docsDir, ws.storeDir);
      const kb = await KnowledgeBase.open(config, { tokenizer });
      expect(await kb.tryLoad()).toBe(false);
      expect(await kb.reloadIfChanged()).toBe(false);
      // `npm run ingest -- --full` in another process: the same build, from another KnowledgeBase.
      await (await KnowledgeBase.open(config, { tokenizer })).ingest({ full: true });
      expect(await kb.reloadIfChanged()).toBe(true);
      expect(kb.status()).toMatchObject({ status: "ok" });
      expect((await kb.search(QUESTION, 1))[0]?.source).toBe("models.md");
    } finally {
      ws.cleanup();
    }
  });

  it("npm start over a store whose CURRENT says ../../etc: starts degraded, builds nothing, recovers by POST /index/rebuild", async () => {
    const ws = damagedCopy((w) => writeFileSync(join(w.store, "CURRENT"), "../../etc\n"));
    const before = storeState(ws.storeDir);
    const server = startServer({ DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir, ADMIN_TOKEN: TOKEN, RATE_LIMIT_PER_MIN: "0" });
    try {
      const url = await server.url;
      expect(server.log()).toMatch(/serving in degraded mode/);
      expect(server.log()).not.toMatch(/building it/);
      const health = (await (await fetch(`${url}/health`)).json()) as any;
      expect(health.status).toBe("degraded");
      expect(health.message).toMatch(/CURRENT.*does not name an index folder.*npm run ingest -- --full/);
      const search = await post(url, "/search", { query: QUESTION });
      expect(search.status).toBe(503);
      expect(((await search.json()) as any).error.code).toBe("INDEX_CORRUPT");
      // The watcher polled at least once meanwhile: still nothing written.
      await new Promise((r) => setTimeout(r, 1200));
      expect(storeState(ws.storeDir)).toEqual(before);

      const started = await post(url, "/index/rebuild", { full: true }, AUTH);
      expect(started.status).toBe(202);
      const job = await waitForJob(url, ((await started.json()) as any).jobId);
      expect(job.state).toBe("succeeded");
      expect(((await (await fetch(`${url}/health`)).json()) as any).status).toBe("ok");
      expect(existsSync(join(ws.storeDir, "CURRENT"))).toBe(true);
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      if (server.child.exitCode === null) server.child.kill("SIGKILL");
      ws.cleanup();
    }
  }, 30_000);
});
