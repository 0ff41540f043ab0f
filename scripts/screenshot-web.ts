/**
 * Takes the README's screenshot of the chat page: the default corpus indexed into a temp dir, offline mode, one
 * question answered, in Debian's Chromium. `npm run screenshot [-- --out docs/web-chat.png --question "…"]`
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { createApp } from "../server/create-app.ts";
import { createLogger } from "../server/logger.ts";
import { createAnswerService } from "../src/answer/create-answer-service.ts";
import { loadConfig } from "../src/config/config.ts";
import { RebuildJobs } from "../src/ingest/rebuild-jobs.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";

const ROOT = join(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    out: { type: "string", default: join(ROOT, "docs/web-chat.png") },
    question: { type: "string", default: "GLM 系列模型有哪些特点？" },
    width: { type: "string", default: "1280" },
    height: { type: "string", default: "860" },
  },
});

const store = mkdtempSync(join(tmpdir(), "kb-screenshot-"));
const config = loadConfig({ DOCS_DIR: join(ROOT, "docs-corpus"), VECTORSTORE_DIR: store, LOG_LEVEL: "silent", ADMIN_TOKEN: "screenshot" });
const kb = await KnowledgeBase.open(config);
await kb.ingest();
const app = createApp({
  config,
  kb,
  logger: createLogger("silent"),
  llm: null,
  answers: await createAnswerService(kb, config),
  jobs: new RebuildJobs(({ full, onProgress }) => kb.ingest({ full, onProgress })),
});
const server: Server = await new Promise((resolve) => {
  const s = app.listen(0, "127.0.0.1", () => resolve(s));
});
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: Number(values.height) }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.fill("#question", values.question);
  await page.press("#question", "Enter");
  await page.waitForFunction(() => [...document.querySelectorAll(".msg-assistant")].at(-1)?.getAttribute("data-state") === "done", null, { timeout: 30_000 });
  await page.screenshot({ path: values.out });
  console.log(`wrote ${values.out}`);
} finally {
  await browser.close();
  server.close();
  rmSync(store, { recursive: true, force: true });
}
