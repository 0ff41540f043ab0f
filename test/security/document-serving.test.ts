import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { serveApp } from "../helpers/http-app.ts";
import { ROOT } from "../helpers/run-cli.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { type Json, rawRequest } from "./security-helpers.ts";

/**
 * SECURITY-TESTS 3: uploaded documents (HTML, Markdown with <script>, SVG named .pdf) are never served inline. No route
 * returns a document's bytes at all; the chat page's static files come from a fixed list of names in server/public,
 * so encoded `..`, backslashes and NUL bytes reach nothing else; every response says nosniff.
 */

const TOKEN = "admin-token-serving-Lm4";
const MARK = `XSS-MARK-${randomUUID()}`;
const PACKAGE_NAME = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).name as string;

const ws = tempWorkspace(FIXTURE_CORPUS);
let kb: KnowledgeBase;
let http: Awaited<ReturnType<typeof serveApp>>;
let uploaded: { id: string; source: string }[] = [];

function multipart(files: { filename: string; content: string }[]): { body: string; type: string } {
  const boundary = `----serve${randomUUID()}`;
  const body = `${files
    .map((f) => `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.filename}"\r\nContent-Type: text/html\r\n\r\n${f.content}\r\n`)
    .join("")}--${boundary}--\r\n`;
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN }), kb);
  const { body, type } = multipart([
    { filename: "evil.html", content: `<html><head><title>evil</title><script>alert("${MARK}")</script></head><body><p>${MARK} 页面</p></body></html>` },
    { filename: "evil.md", content: `# evil\n\n<script>alert("${MARK}")</script>\n\n<img src=x onerror="alert('${MARK}')">\n` },
  ]);
  const res = await rawRequest(http.url, "POST", "/documents", { authorization: `Bearer ${TOKEN}`, "content-type": type }, body);
  expect(res.status).toBe(202);
  await http.jobs.wait(JSON.parse(res.body).jobId);
  uploaded = kb.listDocuments().filter((d) => d.source.startsWith("uploads/evil"));
  expect(uploaded.map((d) => d.source).sort()).toEqual(["uploads/evil.html", "uploads/evil.md"]);
});
afterAll(async () => {
  await http?.close();
  ws.cleanup();
});

describe("SECURITY-TESTS 3: no route serves a document's bytes", () => {
  it("by id, by path, by upload folder, encoded or not: 404/405 JSON, never the document, never text/html", async () => {
    const paths = uploaded.flatMap(({ id, source }) => [
      `/documents/${id}`,
      `/documents/${id}/raw`,
      `/documents/${id}/download`,
      `/documents/${id}/content`,
      `/documents/${encodeURIComponent(source)}`,
      `/${source}`,
      `/${encodeURIComponent(source)}`,
      `/docs/${source}`,
      `/uploads/${source.slice("uploads/".length)}`,
      `/static/${source}`,
      `/public/${source}`,
      `/files/${source}`,
      `/source?path=${encodeURIComponent(source)}`,
      `/documents?source=${encodeURIComponent(source)}`,
    ]);
    for (const path of paths) {
      const res = await rawRequest(http.url, "GET", path);
      expect(res.body, path).not.toContain(MARK);
      expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      expect(res.headers["content-type"] ?? "", path).not.toMatch(/html|svg|markdown/);
      if (!path.startsWith("/documents?")) expect([400, 404, 405], path).toContain(res.status);
    }
  });

  it("what the API does return about a document (listing, search, answers) is JSON text, not its markup as a page", async () => {
    const list = await rawRequest(http.url, "GET", "/documents");
    expect(list.headers["content-type"]).toMatch(/^application\/json/);
    const search = await rawRequest(http.url, "POST", "/search", { "content-type": "application/json" }, JSON.stringify({ query: `${MARK} 页面` }));
    expect(search.status).toBe(200);
    expect(search.headers["content-type"]).toMatch(/^application\/json/);
    expect(search.headers["x-content-type-options"]).toBe("nosniff");
    // The HTML loader keeps text and drops <script>: the search hit has the paragraph, not the script.
    const hits = (JSON.parse(search.body) as Json).results as Json[];
    const html = hits.find((h) => h.source === "uploads/evil.html");
    expect(html?.text).toContain(MARK);
    expect(html?.text).not.toMatch(/<script|alert\(/);
  });
});

describe("SECURITY-TESTS 3: the chat page's static files cannot be made to serve anything else", () => {
  it("control: /, /app.js and /styles.css are served with their own types and nosniff", async () => {
    for (const [path, type] of [
      ["/", /^text\/html/],
      ["/app.js", /^text\/javascript/],
      ["/styles.css", /^text\/css/],
    ] as const) {
      const res = await rawRequest(http.url, "GET", path);
      expect(res.status, path).toBe(200);
      expect(res.headers["content-type"], path).toMatch(type);
      expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      expect(res.headers["content-security-policy"], path).toMatch(/default-src 'none'/);
    }
  });

  const TRAVERSALS = [
    "/..%2f..%2fpackage.json",
    "/..%2F..%2Fpackage.json",
    "/%2e%2e/%2e%2e/package.json",
    "/%2e%2e%2f%2e%2e%2fpackage.json",
    "/%2e%2e/.env",
    "/..%2f.env",
    "/..%5c..%5cpackage.json",
    "/..\\..\\package.json",
    "/../../package.json",
    "/styles.css/..%2f..%2f..%2fpackage.json",
    "/styles.css%2f..%2f..%2fpackage.json",
    "/app.js%00.css",
    "/styles.css%00",
    "/favicon.svg%2f..%2f..%2fpackage.json",
    "/index.html/../../package.json",
    "/src/main.ts",
    "/src%2fmain.ts",
    "/tsconfig.json",
    "/public/index.html",
    "/server/public/styles.css",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/package.json",
    "/.env",
    "/.git/config",
    "/server/start-server.ts",
    "/%252e%252e%252fpackage.json",
    "/%c0%ae%c0%ae/package.json",
  ];
  for (const path of TRAVERSALS) {
    it(`GET ${path} → 400/404, no file from outside the page's list`, async () => {
      const res = await rawRequest(http.url, "GET", path);
      expect([400, 404]).toContain(res.status);
      expect(res.body).not.toContain(`"name": "${PACKAGE_NAME}"`);
      expect(res.body).not.toMatch(/"compilerOptions"|\[core\]|root:x:0:0|createApp|import /);
    });
  }
});
