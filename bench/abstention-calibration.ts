import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { coversQuestion, MIN_MASS, MIN_SHARE, SHORT_QUESTION_WORDS, supportsAnswer } from "../src/answer/relevance.ts";
import { loadConfig } from "../src/config/config.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { readNearMiss } from "./near-miss.ts";
import { sharedDir } from "./shared-dir.ts";

/**
 * `npm run bench:abstain`: the data behind the "nothing relevant" rule. For on-topic questions (survey questions over
 * docs-corpus, pumpkin dev questions over the pumpkin book when ../shared is present), off-topic ones (weather, sport,
 * cooking… in Chinese and English, over both corpora) and near-miss ones (in the corpus's domain, about a concept the
 * corpus does not contain: bench/data/near-miss-*.txt, a calibration half and a held-out half) it prints the best
 * chunk's relevance features and how many questions the rule in src/answer/relevance.ts answers.
 * `-v` lists every question with its features.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(tmpdir(), "kb-abstain-"));
const data = (name: string) => join(root, "bench/data", name);
const offTopic = readFileSync(data("off-topic.txt"), "utf8").split("\n").filter(Boolean);
const survey = readFileSync(data("on-topic-survey.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { question: string; contains: string[] });

async function kbFor(docsDir: string, name: string) {
  const kb = await KnowledgeBase.open(loadConfig({ ...process.env, DOCS_DIR: docsDir, VECTORSTORE_DIR: join(work, name), LOG_LEVEL: "silent" }));
  await kb.ingest();
  return kb;
}

/**
 * `before`: answered by the coverage thresholds alone (rule 1 of relevance.ts: the rule before the never-seen-word
 * check); `answered`: by the current rule. `expected*`: for on-topic questions, whether a supporting chunk holds the
 * expected passage.
 */
type Row = {
  set: string;
  question: string;
  share: number;
  mass: number;
  before: boolean;
  answered: boolean;
  unseen: string[];
  expectedBefore?: boolean;
  expected?: boolean;
};
const rows: Row[] = [];
const squash = (s: string) => s.replace(/\s+/g, "");
/** `contains`: for on-topic questions, the ways the right passage states the answer; `expected` = a supporting chunk holds one. */
async function measure(kb: KnowledgeBase, set: string, questions: { question: string; contains?: string[] }[]) {
  for (const { question, contains } of questions) {
    const hits = await kb.retrieve(question, 5);
    const share = Math.max(0, ...hits.map((h) => Math.max(h.signals.coverage.words.share, h.signals.coverage.bigrams.share)));
    const mass = Math.max(0, ...hits.map((h) => h.signals.coverage.words.mass));
    const holdsExpected = (chunks: typeof hits) => chunks.some((h) => contains?.some((c) => squash(h.text).includes(squash(c))));
    const unseen = [...new Set(hits.flatMap((h) => h.signals.coverage.novel.uncovered))];
    rows.push({
      set,
      question,
      share,
      mass,
      before: hits.some(coversQuestion),
      answered: hits.some(supportsAnswer),
      unseen,
      ...(contains ? { expectedBefore: holdsExpected(hits.filter(coversQuestion)), expected: holdsExpected(hits.filter(supportsAnswer)) } : {}),
    });
  }
}
const asQuestions = (qs: string[]) => qs.map((question) => ({ question }));

try {
  const docs = await kbFor(join(root, "docs-corpus"), "docs");
  const nearSurvey = readNearMiss(data("near-miss-survey.txt"));
  await measure(docs, "on: survey", survey);
  await measure(docs, "off: survey kb", asQuestions(offTopic));
  await measure(docs, "near: survey calib", asQuestions(nearSurvey.calibration.map((q) => q.question)));
  await measure(docs, "near: survey held-out", asQuestions(nearSurvey.heldOut.map((q) => q.question)));
  const shared = sharedDir();
  if (shared) {
    const bookDir = join(work, "book");
    mkdirSync(bookDir);
    copyFileSync(join(shared, "bench/pumpkin/pumpkin_book.pdf"), join(bookDir, "pumpkin_book.pdf"));
    const book = await kbFor(bookDir, "book");
    const dev = readFileSync(join(shared, "bench/pumpkin/dev.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).question as string);
    const nearBook = readNearMiss(data("near-miss-pumpkin.txt"));
    await measure(book, "on: pumpkin", asQuestions(dev));
    await measure(book, "off: pumpkin kb", asQuestions(offTopic));
    await measure(book, "near: pumpkin calib", asQuestions(nearBook.calibration.map((q) => q.question)));
    await measure(book, "near: pumpkin held-out", asQuestions(nearBook.heldOut.map((q) => q.question)));
  } else console.log("(../shared absent: pumpkin sets skipped)");

  const sets = [...new Set(rows.map((r) => r.set))];
  const right = (set: string, answered: (r: Row) => boolean) => {
    const inSet = rows.filter((r) => r.set === set);
    const n = inSet.filter(answered).length;
    return `${set.startsWith("on") ? n : inSet.length - n}/${inSet.length}`;
  };
  console.log(
    `Right decisions (on-topic answered, others refused). Coverage only: share ≥ ${MIN_SHARE} or mass ≥ ${MIN_MASS}; current rule (src/answer/relevance.ts): also, in a question of ≤ ${SHORT_QUESTION_WORDS} content words, no never-seen specific word left uncovered.\n`,
  );
  console.log("| set | coverage only | current rule |\n| --- | --- | --- |");
  for (const set of sets) console.log(`| ${set} | ${right(set, (r) => r.before)} | ${right(set, (r) => r.answered)} |`);
  const withExpected = rows.filter((r) => r.expected !== undefined);
  console.log(
    `| on: survey, answered from a chunk holding the expected passage | ${withExpected.filter((r) => r.expectedBefore).length}/${withExpected.length} | ${withExpected.filter((r) => r.expected).length}/${withExpected.length} |`,
  );

  console.log(
    "\nBest chunk's share (IDF-weighted share of the question's terms):\n| set | n | min | p10 | median | max |\n| --- | --- | --- | --- | --- | --- |",
  );
  for (const set of sets) {
    const xs = rows
      .filter((r) => r.set === set)
      .map((r) => r.share)
      .sort((a, b) => a - b);
    const at = (p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]?.toFixed(3);
    console.log(`| ${set} | ${xs.length} | ${xs[0]?.toFixed(3)} | ${at(0.1)} | ${at(0.5)} | ${xs.at(-1)?.toFixed(3)} |`);
  }
  if (process.argv.includes("-v")) {
    console.log("\nset, answered by coverage only / current rule, share, mass, never-seen words left uncovered, question");
    for (const r of rows) {
      console.log(r.set.padEnd(24), r.before ? "A" : "-", r.answered ? "A" : "-", r.share.toFixed(3), r.mass.toFixed(3), `[${r.unseen.join(" ")}]`, r.question);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
