import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_CORPUS, tempWorkspace } from "../helpers/temp-kb.ts";
import { runTs } from "../helpers/run-cli.ts";

const CLI = "src/cli/main.ts";

describe("CLI: ingest, search, eval (child processes)", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  const env = () => ({ DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir });

  beforeAll(async () => {
    const r = await runTs(CLI, ["ingest"], env());
    // One fixture file is a deliberately broken PDF: the index is still published, the exit code flags it.
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(
      /Full build: 3 files \(added 3, changed 0, removed 0, unchanged 0\) → \d+ chunks \(embedded \d+, reused 0, removed 0\) in [\d.]+ s/,
    );
    expect(r.stdout).toMatch(/Skipped 1 file\(s\) with unsupported extensions: image\.png/);
    expect(r.stdout).toMatch(/FAILED broken\.pdf: broken\.pdf: not a PDF/);
    expect(r.stderr).toMatch(/Parsing|Embedding/);
  }, 60_000);
  afterAll(() => ws.cleanup());

  it("search prints the passage with file, heading path and score", async () => {
    const r = await runTs(CLI, ["search", "星河-7B 的上下文长度是多少？", "-k", "2"], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[1\] models\.md {2}\(score [\d.]+\)/);
    expect(r.stdout).toContain("模型速览 › 一. 开源模型 › 1. 星河系列");
    expect(r.stdout).toContain("8192");
  });

  it("ask prints an extractive answer with citations and sources", async () => {
    const r = await runTs(CLI, ["ask", "星河-7B 的上下文长度是多少？"], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/8192.*\[1\]/);
    expect(r.stdout).toMatch(/Sources:\n {2}\[1\] models\.md — 模型速览 › 一\. 开源模型 › 1\. 星河系列/);
    expect(r.stderr).toMatch(/extractive \(offline\)/);
    const json = JSON.parse((await runTs(CLI, ["ask", "怎样烤面包？", "--json"], env())).stdout);
    expect(json).toMatchObject({ found: false, sources: [], mode: "extractive", model: "local" });
  });

  it("search --json prints the /search shape", async () => {
    const r = await runTs(CLI, ["search", "Orion-2", "--json", "-k", "1"], env());
    const parsed = JSON.parse(r.stdout);
    expect(parsed.results).toHaveLength(1);
    expect(parsed.results[0]).toHaveProperty("text");
  });

  it("--store overrides the environment", async () => {
    const r = await runTs(CLI, ["search", "Orion", "--store", ws.storeDir], { VECTORSTORE_DIR: join(ws.root, "elsewhere") });
    expect(r.code, r.stderr).toBe(0);
  });

  it("eval reports hit@k and MRR for a question file", async () => {
    const qa = join(ws.root, "qa.jsonl");
    writeFileSync(
      qa,
      [
        JSON.stringify({ question: "星河-7B 的上下文长度", source: "models.md", contains: "8192" }),
        JSON.stringify({ question: "reciprocal rank fusion", source: "page.html" }),
      ].join("\n"),
    );
    const r = await runTs(CLI, ["eval", "--qa", qa, "-k", "1,3"], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 questions {2}hit@1 1\.000 {2}hit@3 1\.000 {2}MRR@3 1\.000/);
    const json = JSON.parse((await runTs(CLI, ["eval", "--qa", qa, "--json"], env())).stdout);
    expect(json.hitAt).toEqual({ "1": 1, "3": 1, "5": 1, "10": 1 });
  });

  it("bad usage gets a clear message and a non-zero exit, not a stack trace", async () => {
    const cases: [string[], RegExp][] = [
      [["search"], /Give a query/],
      [["search", "x", "-k", "0"], /-k must be a whole number/],
      [["eval"], /--qa FILE or --answers FILE is required/],
      [["eval", "--qa", "/nonexistent.jsonl"], /Cannot read question file/],
      [["frobnicate"], /Unknown command "frobnicate"/],
      [["search", "x", "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await runTs(CLI, args, env());
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr + r.stdout).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("invalid configuration lists every bad key at once", async () => {
    const r = await runTs(CLI, ["search", "x"], { ...env(), PORT: "abc", CHUNK_SIZE: "5", LLM_PROVIDER: "zhipu" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CONFIG_INVALID/);
    expect(r.stderr).toMatch(/PORT/);
    expect(r.stderr).toMatch(/CHUNK_SIZE/);
  });

  it("a missing index says which command builds it", async () => {
    const r = await runTs(CLI, ["search", "x"], { VECTORSTORE_DIR: join(ws.root, "empty-store") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/INDEX_NOT_FOUND.*npm run ingest/s);
  });

  it("every command has --help", async () => {
    for (const cmd of ["ingest", "search", "ask", "eval"]) {
      const r = await runTs(CLI, [cmd, "--help"], env());
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: npm run/);
    }
  });
});
