import { writeFileSync } from "node:fs";
import { get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../server/create-app.ts";
import { createLogger } from "../../../server/logger.ts";
import { createPageBundler } from "../../../server/web/bundle-page.ts";
import { renderPage } from "../../../server/web/render-page.ts";
import { createAnswerService } from "../../../src/answer/create-answer-service.ts";
import type { KnowledgeBase } from "../../../src/knowledge-base/knowledge-base.ts";
import { serveApp } from "../../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../../helpers/temp-kb.ts";

/** The status of a plain GET with exactly these headers. */
function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

/** A heading that would run script if the page inserted it as markup. */
const HOSTILE_DOC = `# 协议\n\n## 1. <img src=x onerror=alert(1)>赤焰系列\n\n赤焰协议的令牌寿命为九十秒。\n`;

describe("the chat page (GET /, /app.js, /styles.css)", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  let kb: KnowledgeBase;
  let http: Awaited<ReturnType<typeof serveApp>>;

  beforeAll(async () => {
    writeFileSync(join(ws.docsDir, "赤焰.md"), HOSTILE_DOC);
    kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
    http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: "page-token" }), kb);
  });
  afterAll(async () => {
    await http?.close();
    ws.cleanup();
  });

  it("serves the page with a strict CSP, no inline script or style, and the current status filled in", async () => {
    const res = await fetch(`${http.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe/);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // only external scripts
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(html).not.toContain("{{");
    const docs = kb.status().index.documents;
    expect(html).toContain(`<span id="doc-count">${docs}</span>`);
    expect(html).toContain("Extractive (offline)");
    expect(html).toMatch(/<span id="offline-hint" class="offline-hint" data-ssr="offline-hint">/); // shown: no model
    expect(html).toMatch(/id="kb-writes-disabled"[^>]* hidden /); // writes are enabled here
    expect(html).toContain('class="example"');
  });

  it("never puts markup from document headings into the page", async () => {
    const html = await (await fetch(`${http.url}/`)).text();
    expect(html).not.toContain("<img");
    expect(html).not.toContain("onerror");
  });

  it("escapes every value it fills in", () => {
    const template = '<b>{{answerMode}}</b><div id="examples">{{examples}}</div><p id="x" hidden data-ssr="offline-hint">hint</p>';
    const html = renderPage(template, {
      documents: 1,
      chunks: 2,
      llm: { provider: "openai", model: '<img src=x onerror="alert(1)">' },
      degraded: undefined,
      writes: "disabled",
      examples: ['What is "<svg onload=alert(1)>"?'],
    });
    expect(html).toBe(
      '<b>Generated with openai:&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</b><div id="examples"><button type="button" class="example">What is &quot;&lt;svg onload=alert(1)&gt;&quot;?</button></div><p id="x" hidden data-ssr="offline-hint">hint</p>',
    );
  });

  it("bundles the page's TypeScript once and revalidates it with its ETag", async () => {
    const res = await fetch(`${http.url}/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const etag = res.headers.get("etag");
    expect(etag).toBeTruthy();
    const js = await res.text();
    expect(js.length).toBeGreaterThan(1000);
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\/[^\s"'`]*\.(?:js|css|woff2?)/i); // nothing fetched from a CDN
    // A browser's revalidation (fetch() would add Cache-Control: no-cache to a manual If-None-Match, which forbids a 304).
    expect(await statusOf(`${http.url}/app.js`, { "if-none-match": etag as string })).toBe(304);
  });

  it("serves the stylesheet and the icon", async () => {
    const css = await fetch(`${http.url}/styles.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(await css.text()).toContain("PingFang SC");
    const icon = await fetch(`${http.url}/favicon.svg`);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect((await fetch(`${http.url}/favicon.ico`)).status).toBe(204);
  });

  it("says in /health whether the write endpoints are on", async () => {
    const body = (await (await fetch(`${http.url}/health`)).json()) as { writes: string; status: string };
    expect(body).toMatchObject({ status: "ok", writes: "enabled" });
  });
});

describe("the chat page when it cannot be built", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  let server: Server;
  let url: string;
  const logs: string[] = [];

  beforeAll(async () => {
    const kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
    const config = testConfig(ws.docsDir, ws.storeDir);
    const app = createApp(
      { config, kb, logger: createLogger("info", (l) => logs.push(l)), llm: null, answers: await createAnswerService(kb, config) },
      // A real esbuild failure: the entry point does not exist.
      { web: { bundler: createPageBundler(join(ws.root, "missing.ts")) } },
    );
    server = await new Promise((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    ws.cleanup();
  });

  it("answers / and /app.js with a clear 500 and logs why", async () => {
    for (const path of ["/", "/app.js"]) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.message).toMatch(/chat page could not be built/i);
      expect(body.error.message).toMatch(/JSON API still works/);
    }
    expect(logs.some((l) => l.includes("chat page build failed") && l.includes("missing.ts"))).toBe(true);
  });

  it("keeps the JSON API working; without jobs or ADMIN_TOKEN writes are reported disabled", async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", writes: "disabled" });
    const search = await fetch(`${url}/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "星河-7B" }),
    });
    expect(search.status).toBe(200);
  });
});
