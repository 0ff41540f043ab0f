import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppConfig, loadConfig } from "../../src/config/config.ts";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";

export const FIXTURE_CORPUS = join(import.meta.dirname, "../fixtures/corpus");
export const SURVEY_CORPUS = join(import.meta.dirname, "../../docs-corpus");

/** A fresh temp folder holding a copy of `docsFrom` and an empty store; `cleanup()` removes it. */
export function tempWorkspace(docsFrom?: string): { root: string; docsDir: string; storeDir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "kb-test-"));
  const docsDir = join(root, "docs");
  const storeDir = join(root, "store");
  if (docsFrom) cpSync(docsFrom, docsDir, { recursive: true });
  return { root, docsDir, storeDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function testConfig(docsDir: string, storeDir: string, env: Record<string, string> = {}): AppConfig {
  // No rate limit unless a test asks for one: suites fire many questions from 127.0.0.1 on purpose.
  return loadConfig({ DOCS_DIR: docsDir, VECTORSTORE_DIR: storeDir, LOG_LEVEL: "silent", RATE_LIMIT_PER_MIN: "0", ...env });
}

export async function builtKnowledgeBase(docsDir: string, storeDir: string, env: Record<string, string> = {}): Promise<KnowledgeBase> {
  const kb = await KnowledgeBase.open(testConfig(docsDir, storeDir, env));
  await kb.ingest();
  return kb;
}
