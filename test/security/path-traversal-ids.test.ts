import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { serveApp } from "../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { type Json, rawRequest, tree } from "./security-helpers.ts";

/**
 * SECURITY-TESTS 2: traversal payloads on every route that takes an id or a path — DELETE /documents/:id,
 * GET /index/jobs/:id, GET /v1/models/:id — answer 400/404 in the JSON error shape; nothing is read, deleted or
 * started. Ids are looked up in the index (documents) or in memory (jobs), never joined to a folder; a document's own
 * path is re-checked against DOCS_DIR (symlinks in its folders followed) before it is unlinked.
 *
 * Requests go out through node:http with the path as written: fetch() would collapse `..` and `%2e%2e` first.
 */

const TOKEN = "admin-token-traversal-Pq2";
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A secret next to the workspace's DOCS_DIR, and the same name inside it, that no request may touch. */
const ws = tempWorkspace(FIXTURE_CORPUS);
const outsideSecret = join(ws.root, "secret.md");
let kb: KnowledgeBase;
let http: Awaited<ReturnType<typeof serveApp>>;

beforeAll(async () => {
  writeFileSync(outsideSecret, "# outside\n\nTOP-SECRET-OUTSIDE-DOCS\n");
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN }), kb);
});
afterEach(async () => {
  const running = http.jobs.running;
  if (running) await http.jobs.wait(running.id);
});
afterAll(async () => {
  await http?.close();
  ws.cleanup();
});

/** Payloads as they appear in the request line; `{id}` is replaced by a real document id. */
const PAYLOADS = [
  "..",
  "..%2f..%2fsecret.md",
  "..%2F..%2Fsecret.md",
  "%2e%2e",
  "%2e%2e%2f%2e%2e%2fsecret.md",
  "%2E%2E%2F%2E%2E%2Fsecret.md",
  "%252e%252e%252fsecret.md",
  "..%5c..%5csecret.md",
  "..\\..\\secret.md",
  "....%2f%2fsecret.md",
  "%c0%ae%c0%ae%c0%afsecret.md",
  "%ef%bc%8e%ef%bc%8e%ef%bc%8fsecret.md",
  "%00",
  "models.md%00",
  "{id}%00",
  "{id}%00.md",
  "{id}%2f..%2f..%2fsecret.md",
  "{id}/../../secret.md",
  "%2fetc%2fpasswd",
  "C:%5cWindows%5cwin.ini",
  "models.md",
  "sub%2fnotes.txt",
  "uploads",
  "{ID}",
  " {id}",
  "{id}%20",
  "{id}%0a",
  "%E0%A4%A",
  "a".repeat(10_000),
  `${"%2e%2e%2f".repeat(500)}secret.md`,
];

describe("SECURITY-TESTS 2: hostile ids → 400/404, nothing read, deleted or started", () => {
  let someId: string;
  beforeAll(() => {
    const doc = kb.listDocuments().find((d) => d.source === "models.md");
    if (!doc) throw new Error("fixture models.md not indexed");
    someId = doc.id;
  });
  const expand = (p: string) => p.replaceAll("{id}", someId).replaceAll("{ID}", someId.toUpperCase()).replaceAll(" ", "%20");
  const label = (p: string) => (p.length > 50 ? `${p.slice(0, 30)}… (${p.length} chars)` : p);

  for (const payload of PAYLOADS) {
    it(`DELETE /documents/${label(payload)}`, async () => {
      const docsBefore = tree(ws.docsDir);
      const listed = kb.listDocuments();
      const res = await rawRequest(http.url, "DELETE", `/documents/${expand(payload)}`, AUTH);
      // 400/404 from our routes; Node itself answers 400 (no JSON) for a request line it cannot parse.
      expect([400, 404]).toContain(res.status);
      if (res.headers["content-type"]?.startsWith("application/json")) expect(JSON.parse(res.body).error.code).toMatch(/^(BAD_REQUEST|NOT_FOUND)$/);
      expect(tree(ws.docsDir)).toEqual(docsBefore);
      expect(kb.listDocuments()).toEqual(listed);
      expect(readFileSync(outsideSecret, "utf8")).toContain("TOP-SECRET-OUTSIDE-DOCS");
      expect(http.jobs.running).toBeUndefined();
    });

    it(`GET /index/jobs/${label(payload)}`, async () => {
      const res = await rawRequest(http.url, "GET", `/index/jobs/${expand(payload)}`);
      expect([400, 404]).toContain(res.status);
      expect(res.body).not.toContain("TOP-SECRET");
      expect(res.body).not.toMatch(/星河|Orion|"state"/);
    });

    it(`GET /v1/models/${label(payload)}`, async () => {
      const res = await rawRequest(http.url, "GET", `/v1/models/${expand(payload)}`);
      expect([400, 404]).toContain(res.status);
      expect(res.body).not.toContain("TOP-SECRET");
    });
  }

  it("the real id of a document still deletes exactly that document (control)", async () => {
    const target = join(ws.docsDir, "sub", "notes.txt");
    expect(existsSync(target)).toBe(true);
    const doc = kb.listDocuments().find((d) => d.source === "sub/notes.txt");
    const res = await rawRequest(http.url, "DELETE", `/documents/${doc?.id}`, AUTH);
    expect(res.status).toBe(202);
    expect(existsSync(target)).toBe(false);
    await http.jobs.wait(JSON.parse(res.body).jobId);
    expect(kb.listDocuments().some((d) => d.source === "sub/notes.txt")).toBe(false);
  });
});

describe("SECURITY-TESTS 2: a document whose folder became a symlink out of DOCS_DIR is not deleted through it", () => {
  it("DELETE → 400, the file the link points at is intact; the index is unchanged", async () => {
    const own = tempWorkspace();
    const victimDir = join(own.root, "victim");
    try {
      mkdirSync(join(own.docsDir, "team"), { recursive: true });
      writeFileSync(join(own.docsDir, "team", "plan.md"), "# plan\n\n青岚计划的预算是 42 万元。\n");
      writeFileSync(join(own.docsDir, "other.md"), "# other\n\nnothing here\n");
      const ownKb = await builtKnowledgeBase(own.docsDir, own.storeDir);
      const app = await serveApp(testConfig(own.docsDir, own.storeDir, { ADMIN_TOKEN: TOKEN }), ownKb);
      try {
        const doc = ownKb.listDocuments().find((d) => d.source === "team/plan.md");
        expect(doc).toBeDefined();
        // After indexing, someone with access to the folder swaps team/ for a link to a folder outside DOCS_DIR that
        // holds a file of the same name.
        mkdirSync(victimDir);
        writeFileSync(join(victimDir, "plan.md"), "VICTIM FILE OUTSIDE DOCS_DIR");
        renameSync(join(own.docsDir, "team"), join(own.root, "team-moved"));
        symlinkSync(victimDir, join(own.docsDir, "team"), "dir");

        const res = await rawRequest(app.url, "DELETE", `/documents/${doc?.id}`, AUTH);
        expect(res.status).toBe(400);
        expect((JSON.parse(res.body) as Json).error.code).toBe("BAD_REQUEST");
        expect(readFileSync(join(victimDir, "plan.md"), "utf8")).toBe("VICTIM FILE OUTSIDE DOCS_DIR");
        expect(ownKb.listDocuments().map((d) => d.source)).toEqual(["other.md", "team/plan.md"]);
        expect(app.jobs.running).toBeUndefined();
      } finally {
        await app.close();
      }
    } finally {
      own.cleanup();
    }
  });
});
