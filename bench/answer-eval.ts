import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createAnswerService } from "../src/answer/create-answer-service.ts";
import { loadConfig } from "../src/config/config.ts";
import { echoSourcesReply } from "../src/eval/echo-model.ts";
import { type EvalQuestion, readQuestionSet } from "../src/eval/question-set.ts";
import { formatScores, type QuestionResult, runAnswerEval, scoreBy, scoreGroup } from "../src/eval/run-answer-eval.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { startFakeOpenAI } from "../test/helpers/fake-openai-server.ts";
import { sharedDir } from "./shared-dir.ts";

/**
 * `npm run bench:answers`: answer quality on the user-style question sets (bench/data/user-questions/), offline
 * (extractive) and in LLM mode against a loopback OpenAI-compatible model that echoes its sources (so LLM-mode
 * "holds the fact" = the fact reached the model; "refused" = refused before the model was asked).
 * Every corpus is ingested into a temp folder through the normal path. docs-corpus always; the prompt-engineering
 * course and the pumpkin book when ../shared is present (skipped, saying so, otherwise).
 *   --split cal|held   only one half     --mode offline|llm|both (default both)     -v  list every failure
 *   --json FILE        write per-question results     --only docs-corpus,pumpkin     --data DIR (other question files)
 */
function replaceBlock(name: string, content: string): void {
  const path = join(root, "docs/benchmarks.md");
  const text = readFileSync(path, "utf8");
  const marker = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  const block = `<!-- ${name}:start -->\n${content}<!-- ${name}:end -->`;
  writeFileSync(path, marker.test(text) ? text.replace(marker, () => block) : `${text.trimEnd()}\n\n## Answers\n\n${block}\n`);
}

const { values } = parseArgs({
  options: {
    split: { type: "string" },
    mode: { type: "string", default: "both" },
    verbose: { type: "boolean", short: "v" },
    json: { type: "string" },
    only: { type: "string" },
    data: { type: "string" },
  },
});
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const data = values.data ? resolve(values.data) : join(root, "bench/data/user-questions");
const work = mkdtempSync(join(tmpdir(), "kb-answers-"));
const shared = sharedDir();

interface Corpus {
  name: string;
  docsDir: string | undefined;
  file: string;
}
const pumpkinDir = (): string | undefined => {
  if (!shared) return undefined;
  const pdf = join(shared, "bench/pumpkin/pumpkin_book.pdf");
  if (!existsSync(pdf)) return undefined;
  const dir = join(work, "pumpkin-docs");
  mkdirSync(dir, { recursive: true });
  copyFileSync(pdf, join(dir, "pumpkin_book.pdf"));
  return dir;
};
const corpora: Corpus[] = [
  { name: "docs-corpus", docsDir: join(root, "docs-corpus"), file: "docs-corpus.jsonl" },
  { name: "prompt-engineering", docsDir: shared ? join(shared, "corpora/prompt-engineering") : undefined, file: "prompt-engineering.jsonl" },
  { name: "pumpkin", docsDir: pumpkinDir(), file: "pumpkin.jsonl" },
].filter((c) => !values.only || values.only.split(",").includes(c.name));

const fake = await startFakeOpenAI({ chatReply: (r) => echoSourcesReply((r.body as { messages?: { role: string; content: unknown }[] })?.messages ?? []) });
const all: Record<string, QuestionResult[]> = {};
try {
  for (const corpus of corpora) {
    if (!corpus.docsDir || !existsSync(corpus.docsDir)) {
      console.log(`\n## ${corpus.name}: skipped (../shared not found; set SHARED_DIR)`);
      continue;
    }
    if (!existsSync(join(data, corpus.file))) {
      console.log(`\n## ${corpus.name}: skipped (no ${corpus.file})`);
      continue;
    }
    let questions: EvalQuestion[] = readQuestionSet(join(data, corpus.file));
    if (values.split) questions = questions.filter((q) => q.split === values.split);
    const env = { ...process.env, DOCS_DIR: corpus.docsDir, VECTORSTORE_DIR: join(work, `store-${corpus.name}`), LOG_LEVEL: "silent" };
    const kb = await KnowledgeBase.open(loadConfig({ ...env, LLM_PROVIDER: "none" }));
    await kb.ingest();
    const modes = values.mode === "both" ? ["offline", "llm"] : [values.mode ?? "offline"];
    for (const mode of modes) {
      const config =
        mode === "llm"
          ? loadConfig({ ...env, LLM_PROVIDER: "openai", LLM_BASE_URL: fake.url, LLM_API_KEY: "sk-loopback", LLM_MODEL: "echo" })
          : loadConfig({ ...env, LLM_PROVIDER: "none" });
      const answers = await createAnswerService(kb, config);
      const { results } = await runAnswerEval(kb, answers, questions);
      all[`${corpus.name}/${mode}`] = results;
      console.log(`\n## ${corpus.name} — ${mode === "llm" ? "LLM mode (loopback model echoing its sources)" : "offline (extractive)"}\n`);
      console.log(formatScores(scoreBy(results)));
      if (values.verbose)
        for (const r of results.filter((x) => x.outcome !== "held" && x.outcome !== "refused-ok"))
          console.log(`  ${r.outcome.padEnd(22)} ${r.id} [${r.kind}/${r.lang}] ${r.question}\n      → ${r.answer.replace(/\s+/g, " ").slice(0, 160)}`);
    }
    await kb.close();
  }
  // Totals over every corpus, per mode and split: the figures the targets are stated in.
  console.log("\n## All corpora\n");
  const summary: { group: string; score: ReturnType<typeof scoreGroup> }[] = [];
  for (const mode of ["offline", "llm"]) {
    const rows = Object.entries(all)
      .filter(([k]) => k.endsWith(`/${mode}`))
      .flatMap(([, v]) => v);
    if (rows.length === 0) continue;
    const groups = [
      { group: `${mode} all`, score: scoreGroup(rows) },
      ...["cal", "held"].map((s) => ({ group: `${mode} ${s}`, score: scoreGroup(rows.filter((r) => r.split === s)) })),
      ...["near-miss", "off-topic"].map((k) => ({ group: `${mode} ${k}`, score: scoreGroup(rows.filter((r) => r.kind === k)) })),
      ...["zh-en", "en-zh"].map((l) => ({ group: `${mode} cross ${l}`, score: scoreGroup(rows.filter((r) => r.lang === l)) })),
      ...["cal", "held"].map((s) => ({
        group: `${mode} cross-language ${s}`,
        score: scoreGroup(rows.filter((r) => r.split === s && (r.lang === "zh-en" || r.lang === "en-zh"))),
      })),
    ];
    summary.push(...groups.filter((g) => g.score.answerable + g.score.unanswerable > 0));
  }
  const totals = formatScores(summary);
  console.log(totals);
  // The whole run (every corpus, both modes, both halves) goes into docs/benchmarks.md; a partial run does not.
  if (!values.split && !values.only && values.mode === "both" && !values.data && corpora.every((c) => c.docsDir)) {
    const perCorpus = Object.entries(all)
      .map(([name, rows]) => `#### ${name}\n\n${formatScores(scoreBy(rows).filter((g) => !g.group.startsWith("kind ")))}\n`)
      .join("\n");
    const date = new Date().toISOString().slice(0, 10);
    replaceBlock(
      "answers",
      `\`npm run bench:answers\` (${date}; ${Object.values(all).filter((_, i) => i % 2 === 0).reduce((n, r) => n + r.length, 0)} questions over three corpora, bench/data/user-questions; LLM mode = the loopback model that echoes its sources, so "holds the fact" there means the fact reached the model and "wrongly refused" counts questions refused before any model was asked):\n\n${totals}\n\n${perCorpus}`,
    );
    mkdirSync(join(root, "bench/results"), { recursive: true });
    writeFileSync(join(root, "bench/results/answers.json"), JSON.stringify(all, null, 1));
    console.log("\nWrote docs/benchmarks.md (answers block) and bench/results/answers.json");
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(all, null, 1));
} finally {
  await fake.close();
  rmSync(work, { recursive: true, force: true });
}
