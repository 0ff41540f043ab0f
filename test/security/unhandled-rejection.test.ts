import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import vitestConfig from "../../vitest.config.ts";
import { startServer } from "../helpers/server-process.ts";
import { FIXTURE_CORPUS, tempWorkspace } from "../helpers/temp-kb.ts";
import { eventually, parseLogs, postJson } from "./security-helpers.ts";

/**
 * "The suite fails on any unhandled rejection": vitest reports an unhandled rejection as an error and exits 1 even
 * when every test passed (its default; verified with a throwaway test, see README.md), and the config must not turn
 * that off. The server itself logs an unhandled rejection as one structured error line and keeps serving — checked on
 * `npm start` as users run it, with a preloaded module that rejects two promises on cue.
 */

const TRIGGER_MODULE = join(import.meta.dirname, "fixtures", "unhandled-rejection-trigger.mjs");

describe("unhandled rejections", () => {
  it("the vitest config keeps unhandled errors fatal to the run", () => {
    const test = (vitestConfig as { test?: Record<string, unknown> }).test ?? {};
    expect(test.dangerouslyIgnoreUnhandledErrors).not.toBe(true);
    expect(test.onUnhandledError).toBeUndefined();
  });

  const ws = tempWorkspace(FIXTURE_CORPUS);
  afterAll(() => ws.cleanup());

  it("npm start: an unhandled rejection is logged as a structured error line (no secrets) and the server keeps serving", async () => {
    const trigger = join(ws.root, "reject-now");
    const server = startServer({
      DOCS_DIR: ws.docsDir,
      VECTORSTORE_DIR: ws.storeDir,
      NODE_OPTIONS: `--import ${pathToFileURL(TRIGGER_MODULE).href}`,
      REJECTION_TRIGGER: trigger,
    });
    try {
      const url = await server.url;
      expect((await fetch(`${url}/health`)).status).toBe(200);

      writeFileSync(trigger, "now");
      const rejections = () =>
        parseLogs(
          server
            .log()
            .split("\n")
            .filter((l) => l.startsWith("{")),
        ).filter((l) => l?.msg === "unhandled promise rejection");
      expect(await eventually(() => rejections().length >= 2, 10_000, 50)).toBe(true);

      const [withError, withObject] = rejections();
      expect(withError).toMatchObject({ level: "error", err: { name: "Error", message: "CANARY unhandled rejection from a background task" } });
      expect(withObject).toMatchObject({ level: "error", reason: "object" });
      expect(server.log()).not.toContain("sk-CANARY");
      // Every line the server wrote is one JSON object.
      for (const line of server.log().split("\n").filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();

      // Still serving, for reads and for answers.
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const search = await postJson(url, "/search", { query: "星河-7B 的上下文长度" });
      expect(search.status).toBe(200);
      const ask = await postJson(url, "/ask", { question: "星河-7B 的上下文长度是多少？" });
      expect(ask.status).toBe(200);
      expect(server.child.exitCode).toBeNull();
    } finally {
      server.child.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
  });
});
