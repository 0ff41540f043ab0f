import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { HAS_CHROMIUM, launchChromium, type PageWatch, watchPage } from "./browser.ts";
import { type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * The chat page in real Chromium against the real server (Express on port 0, real index on a temp dir). Offline mode
 * for the extractive paths; the loopback OpenAI-compatible fake for streaming, stopping and hostile model output.
 */

const TOKEN = "browser-admin-token-7Yq";
const NEW_DOC = join(import.meta.dirname, "../fixtures/new-docs/银杏数据库.md");

/** A document carrying markup that must never run, whichever way it reaches the page (snippet, answer, stream). */
const HOSTILE_DOC = `# 赤焰协议说明

赤焰协议规定每次握手都使用三段式令牌 <img src=x onerror="window.__xss='doc-img'"> 令牌的寿命为九十秒 <script>window.__xss='doc-script'</script>。

赤焰协议的手册见 [赤焰手册](javascript:window.__xss='doc-link') 和 <a href="javascript:window.__xss='doc-a'">赤焰附录</a>。
`;

/** Hostile markup in a file name and a front-matter title: shown in source lists, the dialog and the KB panel. */
const HOSTILE_NAME = `"><img src=x onerror="window.__xss='name'">赤焰.md`;
const HOSTILE_TITLE_DOC = `---
title: "<svg onload=\\"window.__xss='title'\\"></svg><img src=x alt='\\"onerror=window.__xss=1'>赤焰附录"
---

# 赤焰协议附录

赤焰协议的令牌寿命在附录中再次说明：九十秒后令牌失效。
`;

/** What a compromised or prompt-injected model might stream back. */
const HOSTILE_REPLY = [
  "赤焰协议的令牌寿命为九十秒 [1]。",
  "",
  `<img src=x onerror="window.__xss='llm-img'">`,
  "<script>window.__xss='llm-script'</script>",
  "[点这里](javascript:window.__xss='llm-link')",
  `<a href="javascript:window.__xss='llm-a'" id="evil">附录</a>`,
  `<iframe src="javascript:window.__xss='llm-iframe'"></iframe>`,
  `<svg><script>window.__xss='llm-svg'</script></svg>`,
  "![远程图片](http://203.0.113.9/track.png)",
  `<div style="position:fixed;inset:0" onclick="window.__xss='llm-div'">x</div>`,
].join("\n");

const NORMAL_REPLY = "星河-7B 支持 **8192** 的上下文长度 [1]。它由示例实验室发布 [1]。";
/** Long enough (one token per character, 25 ms apart: about 4 s) to be stopped mid-way. */
const LONG_REPLY = `星河-7B 的上下文长度是 8192 [1]。${"它在两万亿词元上完成了预训练，参数量为七十亿。".repeat(6)}`;

const d = describe.skipIf(!HAS_CHROMIUM);

d("web chat in Chromium", () => {
  const offlineWs = tempWorkspace(FIXTURE_CORPUS);
  const llmWs = tempWorkspace(FIXTURE_CORPUS);
  let offlineKb: KnowledgeBase;
  let llmKb: KnowledgeBase;
  let offline: Awaited<ReturnType<typeof serveApp>>;
  let llm: Awaited<ReturnType<typeof serveApp>>;
  let fake: FakeOpenAI;
  let browser: Browser;

  beforeAll(async () => {
    for (const ws of [offlineWs, llmWs]) {
      writeFileSync(join(ws.docsDir, "赤焰协议.md"), HOSTILE_DOC);
      writeFileSync(join(ws.docsDir, HOSTILE_NAME), HOSTILE_TITLE_DOC);
    }
    fake = await startFakeOpenAI({
      tokenDelayMs: 25,
      chatReply: (r: RecordedRequest) => {
        const messages = (r.body as { messages?: { role: string; content: string }[] }).messages ?? [];
        if (JSON.stringify(messages).includes("Rewrite the user's last message")) return "星河-7B 是谁发布的？";
        // The reply depends on the question being answered (after "Question:" in the last message), not on the
        // sources in that message or on earlier turns.
        const lastMessage = messages.at(-1)?.content ?? "";
        const last = lastMessage.slice(lastMessage.lastIndexOf("Question:"));
        if (last.includes("赤焰")) return HOSTILE_REPLY;
        if (last.includes("详细介绍")) return LONG_REPLY;
        return NORMAL_REPLY;
      },
    });
    [offlineKb, llmKb, browser] = await Promise.all([
      builtKnowledgeBase(offlineWs.docsDir, offlineWs.storeDir),
      builtKnowledgeBase(llmWs.docsDir, llmWs.storeDir),
      launchChromium(),
    ]);
    offline = await serveApp(testConfig(offlineWs.docsDir, offlineWs.storeDir, { ADMIN_TOKEN: TOKEN }), offlineKb);
    llm = await serveApp(
      testConfig(llmWs.docsDir, llmWs.storeDir, { LLM_PROVIDER: "openai", LLM_BASE_URL: fake.url, LLM_API_KEY: "sk-browser-test", LLM_MODEL: "fake-model" }),
      llmKb,
    );
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([offline?.close(), llm?.close(), fake?.close()]);
    offlineWs.cleanup();
    llmWs.cleanup();
  });

  async function open(
    url: string,
    opts: { acceptConfirms?: boolean; width?: number } = {},
  ): Promise<{ page: Page; watch: PageWatch; context: BrowserContext }> {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: 860 } });
    const page = await context.newPage();
    const watch = await watchPage(page, url, opts);
    await page.goto(url);
    await page.waitForSelector("#question");
    return { page, watch, context };
  }

  async function ask(page: Page, question: string): Promise<void> {
    await page.fill("#question", question);
    await page.press("#question", "Enter");
  }

  const lastAnswer = (page: Page) => page.locator(".msg-assistant").last();
  const waitState = (page: Page, state: string) =>
    page.waitForFunction((s) => [...document.querySelectorAll(".msg-assistant")].at(-1)?.getAttribute("data-state") === s, state, { timeout: 15_000 });

  it("serves the page with a strict CSP and nothing from other origins", async () => {
    const res = await fetch(`${offline.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);

    const { page, watch, context } = await open(offline.url);
    await page.waitForFunction(() => Number(document.querySelector("#chunk-count")?.textContent?.replace(/\D/g, "")) > 0);
    await expect(page.locator("#answer-mode").textContent()).resolves.toMatch(/extractive|offline/i);
    expect(await page.locator("#offline-hint").isVisible()).toBe(true);
    expect(await page.locator("#empty-state").isVisible()).toBe(true);
    expect(await page.locator("#empty-state button.example").count()).toBeGreaterThan(0);
    expect(watch.errors).toEqual([]);
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    await context.close();
  });

  it("answers offline with citations; a citation opens the source with highlighted words", async () => {
    const { page, watch, context } = await open(offline.url);
    await ask(page, "星河-7B 的上下文长度是多少？");
    await waitState(page, "done");
    const answer = lastAnswer(page);
    await expect(answer.locator(".msg-body").textContent()).resolves.toContain("8192");
    expect(await answer.locator("ol.sources > li").count()).toBeGreaterThan(0);
    expect(await answer.locator("ol.sources > li").first().textContent()).toContain("模型速览");
    const cite = answer.locator("button.cite").first();
    await cite.click();
    const dialog = page.locator("#source-dialog");
    await dialog.waitFor({ state: "visible" });
    await expect(dialog.locator(".source-title").textContent()).resolves.toContain("模型速览");
    await expect(dialog.locator(".source-path").textContent()).resolves.toContain("models.md");
    await expect(dialog.locator(".source-headings").textContent()).resolves.toContain("星河系列");
    expect(await dialog.locator(".source-snippet mark").count()).toBeGreaterThan(0);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it("says plainly when nothing relevant is in the knowledge base", async () => {
    const { page, context } = await open(offline.url);
    await ask(page, "今天北京的天气怎么样？");
    await waitState(page, "done");
    expect(await lastAnswer(page).locator(".msg-notfound").isVisible()).toBe(true);
    expect(await lastAnswer(page).locator("button.cite").count()).toBe(0);
    await context.close();
  });

  it("streams tokens from the model, renders Markdown and shows the model in the header", async () => {
    const { page, watch, context } = await open(llm.url);
    await expect(page.locator("#answer-mode").textContent()).resolves.toContain("fake-model");
    expect(await page.locator("#offline-hint").isVisible()).toBe(false);
    await ask(page, "请详细介绍星河-7B 的预训练。");
    await waitState(page, "streaming");
    // Partial text while the model is still sending: streamed, not delivered at the end.
    await page.waitForFunction(() => ([...document.querySelectorAll(".msg-assistant .msg-body")].at(-1)?.textContent?.length ?? 0) > 5);
    expect(await lastAnswer(page).getAttribute("data-state")).toBe("streaming");
    expect(await page.locator("#stop").isVisible()).toBe(true);
    await waitState(page, "done");
    expect(await page.locator("#stop").isVisible()).toBe(false);
    expect(await lastAnswer(page).locator("button.cite").count()).toBeGreaterThan(0);
    expect(watch.errors).toEqual([]);

    // Markdown: the short reply's **8192** becomes <strong>.
    await ask(page, "星河-7B 的上下文长度是多少？");
    await waitState(page, "done");
    await expect(lastAnswer(page).locator(".msg-body strong").textContent()).resolves.toBe("8192");
    await context.close();
  });

  it("the stop button aborts generation and the upstream request", async () => {
    const { page, context } = await open(llm.url);
    fake.reset();
    await ask(page, "请详细介绍星河-7B 的预训练。");
    await page.waitForFunction(() => ([...document.querySelectorAll(".msg-assistant .msg-body")].at(-1)?.textContent?.length ?? 0) > 5);
    await page.click("#stop");
    await waitState(page, "stopped");
    const partial = (await lastAnswer(page).locator(".msg-body").textContent()) ?? "";
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(LONG_REPLY.length);
    const aborted = await fake.waitForAbort(5000);
    expect(aborted.route).toBe("chat");
    // The input is usable again and nothing more arrives.
    await page.waitForTimeout(300);
    expect(((await lastAnswer(page).locator(".msg-body").textContent()) ?? "").length).toBe(partial.length);
    expect(await page.locator("#question").isEditable()).toBe(true);
    await context.close();
  });

  it("keeps conversations across a reload, sends follow-ups with history, and starts new chats", async () => {
    const { page, context } = await open(offline.url);
    await ask(page, "星河-7B 的上下文长度是多少？");
    await waitState(page, "done");
    const historyBody = page.waitForRequest((r) => r.url().endsWith("/ask") && (r.postData() ?? "").includes("history"));
    await ask(page, "它的参数量呢？");
    const sent = JSON.parse((await historyBody).postData() ?? "{}");
    expect(sent.history.map((t: { role: string }) => t.role)).toEqual(["user", "assistant"]);
    expect(sent.history[0].content).toContain("星河-7B");
    await waitState(page, "done");
    const before = await page.locator("#messages .msg").count();
    expect(before).toBe(4);

    await page.reload();
    await page.waitForSelector("#messages .msg-assistant");
    expect(await page.locator("#messages .msg").count()).toBe(before);
    await expect(page.locator("#messages .msg-user").first().textContent()).resolves.toContain("星河-7B");
    expect(await page.locator("#messages .msg-assistant button.cite").count()).toBeGreaterThan(0);

    await page.click("#new-chat");
    expect(await page.locator("#messages .msg").count()).toBe(0);
    expect(await page.locator("#empty-state").isVisible()).toBe(true);
    expect(await page.locator("#conversations li").count()).toBe(2);
    await page.locator("#conversations li").nth(1).click();
    await page.waitForSelector("#messages .msg");
    expect(await page.locator("#messages .msg").count()).toBe(before);
    await context.close();
  });

  it("Shift+Enter makes a newline; Enter sends", async () => {
    const { page, context } = await open(offline.url);
    await page.fill("#question", "第一行");
    await page.press("#question", "Shift+Enter");
    await page.keyboard.type("第二行");
    expect(await page.inputValue("#question")).toBe("第一行\n第二行");
    expect(await page.locator("#messages .msg").count()).toBe(0);
    await page.press("#question", "Enter");
    await page.waitForSelector("#messages .msg-user");
    expect(await page.inputValue("#question")).toBe("");
    await context.close();
  });

  it("shows a clear error when the server is unreachable, and retry works once it is back", async () => {
    const { page, context } = await open(offline.url);
    await page.route("**/ask", (route) => route.abort("connectionrefused"));
    await ask(page, "星河-7B 的上下文长度是多少？");
    await waitState(page, "error");
    await expect(lastAnswer(page).locator(".msg-error").textContent()).resolves.toMatch(/reach|server|connect/i);
    await page.unroute("**/ask");
    await lastAnswer(page).locator(".retry").click();
    await waitState(page, "done");
    await expect(lastAnswer(page).locator(".msg-body").textContent()).resolves.toContain("8192");
    await context.close();
  });

  it("shows the upstream model's failure as an error, not as an answer", async () => {
    const { page, context } = await open(llm.url);
    fake.setFault("chat", { kind: "status", status: 401, body: { error: { message: "Incorrect API key provided", type: "invalid_request_error" } } });
    try {
      await ask(page, "星河-7B 的上下文长度是多少？");
      await waitState(page, "error");
      const text = (await lastAnswer(page).locator(".msg-error").textContent()) ?? "";
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toContain("sk-browser-test");
    } finally {
      fake.setFault("chat", null);
    }
    await context.close();
  });

  for (const server of ["offline", "llm"] as const) {
    it(`hostile markup in documents and answers never runs (${server}, streaming and final render)`, async () => {
      const http = server === "offline" ? offline : llm;
      const { page, watch, context } = await open(http.url);
      // Sample the DOM during streaming too, not only after the final render.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { __seen: string[] }).__seen = seen;
        new MutationObserver(() => {
          for (const el of document.querySelectorAll(
            "#messages script, #messages iframe, #messages [onerror], #messages [onclick], #messages a[href^='javascript' i], #messages [style]",
          )) {
            seen.push(el.outerHTML.slice(0, 120));
          }
        }).observe(document.body, { subtree: true, childList: true, attributes: true });
      });
      await ask(page, "赤焰协议的令牌寿命是多久？");
      await waitState(page, "done");
      const answer = lastAnswer(page);
      // Links are checked, not clicked: a safe link opens a new tab, which would leave this page's request guard.
      for (const link of await answer.locator(".msg-body a").all()) {
        expect(await link.getAttribute("href")).not.toMatch(/^\s*javascript:/i);
      }
      const cite = answer.locator("button.cite").first();
      if ((await cite.count()) > 0) {
        await cite.click();
        await page.locator("#source-dialog").waitFor({ state: "visible" });
        expect(await page.locator("#source-dialog .source-snippet img, #source-dialog .source-snippet script").count()).toBe(0);
        await page.keyboard.press("Escape");
      }
      await page.waitForTimeout(200);
      expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
      expect(await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen)).toEqual([]);
      expect(await page.locator("#messages img[src^='http']").count()).toBe(0);
      expect(watch.dialogs).toEqual([]);
      expect(watch.cspViolations).toEqual([]);
      expect(watch.foreignRequests).toEqual([]);
      await context.close();
    });
  }

  it("knowledge-base panel: upload a Markdown file, rebuild, and the new document is answerable", async () => {
    const { page, watch, context } = await open(offline.url);
    const docsBefore = Number((await page.locator("#doc-count").textContent())?.replace(/\D/g, ""));
    await page.click("#kb-open");
    await page.locator("#kb-panel").waitFor({ state: "visible" });
    await page.waitForSelector("#kb-docs li[data-id]");
    expect(await page.locator("#kb-writes-disabled").isVisible()).toBe(false);
    await page.fill("#admin-token", TOKEN);
    await page.setInputFiles("#kb-file", { name: "银杏数据库.md", mimeType: "text/markdown", buffer: readFileSync(NEW_DOC) });
    await page.click("#kb-upload");
    await page.waitForFunction((n) => Number(document.querySelector("#doc-count")?.textContent?.replace(/\D/g, "")) === n, docsBefore + 1, { timeout: 20_000 });
    await expect(page.locator("#kb-docs").textContent()).resolves.toContain("银杏数据库");
    expect(await page.locator("#kb-progress").getAttribute("value")).toBe(await page.locator("#kb-progress").getAttribute("max"));
    // The token lives in sessionStorage only, never in localStorage.
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(TOKEN);
    await page.keyboard.press("Escape");
    await ask(page, "银杏数据库的默认服务端口是多少？");
    await waitState(page, "done");
    await expect(lastAnswer(page).locator(".msg-body").textContent()).resolves.toContain("7707");
    await expect(lastAnswer(page).locator("ol.sources").textContent()).resolves.toContain("银杏数据库");
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it("knowledge-base panel: drop a file to upload it, delete a document, rebuild with progress", async () => {
    const { page, watch, context } = await open(offline.url, { acceptConfirms: true });
    await page.click("#kb-open");
    await page.waitForSelector("#kb-docs li[data-id]");
    await page.fill("#admin-token", TOKEN);
    const count = () => page.locator("#kb-docs li[data-id]").count();
    const before = await count();
    // A real drop event carrying a File, as the browser builds it for a drag from the desktop.
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["# 拖放测试\n\n拖放上传的文件写着：青瓷茶壶的容量是三百毫升。\n"], "拖放测试.md", { type: "text/markdown" }));
      return dt;
    });
    await page.dispatchEvent("#kb-drop", "dragover", { dataTransfer });
    await page.dispatchEvent("#kb-drop", "drop", { dataTransfer });
    await page.waitForFunction((n) => document.querySelectorAll("#kb-docs li[data-id]").length === n, before + 1, { timeout: 20_000 });
    await expect(page.locator("#kb-docs").textContent()).resolves.toContain("拖放测试");

    const item = page.locator("#kb-docs li[data-id]", { hasText: "拖放测试" });
    await item.locator(".kb-delete").click();
    await page.waitForFunction((n) => document.querySelectorAll("#kb-docs li[data-id]").length === n, before, { timeout: 20_000 });
    expect(watch.dialogs.some((d) => d.startsWith("confirm"))).toBe(true);

    await page.click("#kb-rebuild");
    await page.waitForFunction(() => /succeeded|done|up to date|rebuilt|indexed/i.test(document.querySelector("#kb-message")?.textContent ?? ""), null, {
      timeout: 20_000,
    });
    expect(await page.locator("#kb-progress").getAttribute("value")).toBe(await page.locator("#kb-progress").getAttribute("max"));
    expect(watch.errors).toEqual([]);
    await context.close();
  });

  it("every control has an accessible name and the page is keyboard-usable", async () => {
    const { page, context } = await open(offline.url);
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("button, input, textarea, select, a[href]")]
        .filter((el) => !(el as HTMLElement).closest("[hidden]"))
        .filter((el) => {
          const label = el.getAttribute("aria-label") || el.getAttribute("title") || el.textContent?.trim();
          const id = el.getAttribute("id");
          const forLabel = id ? document.querySelector(`label[for="${id}"]`) : null;
          return !label && !forLabel && !el.closest("label");
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    // Tab reaches the question box and Enter sends from there.
    await page.focus("#question");
    await page.keyboard.type("星河-7B 的上下文长度是多少？");
    await page.keyboard.press("Enter");
    await waitState(page, "done");
    await context.close();
  });

  it("hostile file names and titles are shown as text in the knowledge-base panel", async () => {
    const { page, watch, context } = await open(offline.url);
    await page.click("#kb-open");
    await page.waitForSelector("#kb-docs li[data-id]");
    await expect(page.locator("#kb-docs").textContent()).resolves.toContain("赤焰");
    expect(await page.locator("#kb-docs img, #kb-docs script, #kb-docs [onload], #kb-docs [onerror]").count()).toBe(0);
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    expect(watch.cspViolations).toEqual([]);
    await context.close();
  });

  it("knowledge-base panel explains that writes are disabled without ADMIN_TOKEN", async () => {
    const { page, context } = await open(llm.url);
    await page.click("#kb-open");
    await page.locator("#kb-writes-disabled").waitFor({ state: "visible" });
    await expect(page.locator("#kb-writes-disabled").textContent()).resolves.toContain("ADMIN_TOKEN");
    expect(await page.locator("#kb-rebuild").isDisabled()).toBe(true);
    await context.close();
  });

  it("is usable at phone width", async () => {
    const { page, watch, context } = await open(offline.url, { width: 375 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await ask(page, "星河-7B 的上下文长度是多少？");
    await waitState(page, "done");
    const box = await lastAnswer(page).boundingBox();
    expect(box?.width ?? 0).toBeLessThanOrEqual(375);
    expect(watch.errors).toEqual([]);
    await context.close();
  });
});
