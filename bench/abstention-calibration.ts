import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/config.ts";
import { MIN_MASS, MIN_SHARE, supportsAnswer } from "../src/answer/relevance.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { sharedDir } from "./shared-dir.ts";

/**
 * `npm run bench:abstain`: the data behind the "nothing relevant" rule. For on-topic questions (survey questions over
 * docs-corpus, pumpkin dev questions over the pumpkin book when ../shared is present) and off-topic ones (weather,
 * sport, cooking… in Chinese and English, over both corpora) it prints the best chunk's relevance features, so the
 * threshold in src/answer/relevance.ts can be read off the separation.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(tmpdir(), "kb-abstain-"));
const offTopic = readFileSync(join(root, "bench/data/off-topic.txt"), "utf8").split("\n").filter(Boolean);
const survey = readFileSync(join(root, "bench/data/on-topic-survey.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l).question as string);

async function kbFor(docsDir: string, name: string) {
  const kb = await KnowledgeBase.open(loadConfig({ ...process.env, DOCS_DIR: docsDir, VECTORSTORE_DIR: join(work, name) }));
  await kb.ingest();
  return kb;
}

type Row = { set: string; question: string; share: number; mass: number; best: number; answered: boolean };
const rows: Row[] = [];
async function measure(kb: KnowledgeBase, set: string, questions: string[]) {
  for (const q of questions) {
    const hits = await kb.retrieve(q, 5);
    const share = Math.max(0, ...hits.map((h) => Math.max(h.signals.coverage.words.share, h.signals.coverage.bigrams.share)));
    const mass = Math.max(0, ...hits.map((h) => h.signals.coverage.words.mass));
    rows.push({ set, question: q, share, mass, best: share, answered: hits.some(supportsAnswer) });
  }
}

try {
  const docs = await kbFor(join(root, "docs-corpus"), "docs");
  await measure(docs, "on: survey", survey);
  await measure(docs, "off: survey kb", offTopic);
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
    await measure(book, "on: pumpkin", dev);
    await measure(book, "off: pumpkin kb", offTopic);
  } else console.log("(../shared absent: pumpkin sets skipped)");

  const sets = [...new Set(rows.map((r) => r.set))];
  console.log("| set | n | min | p10 | median | max |\n| --- | --- | --- | --- | --- | --- |");
  for (const set of sets) {
    const xs = rows
      .filter((r) => r.set === set)
      .map((r) => r.best)
      .sort((a, b) => a - b);
    const at = (p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]?.toFixed(3);
    console.log(`| ${set} | ${xs.length} | ${xs[0]?.toFixed(3)} | ${at(0.1)} | ${at(0.5)} | ${xs.at(-1)?.toFixed(3)} |`);
  }
  const on = rows.filter((r) => r.set.startsWith("on"));
  const off = rows.filter((r) => r.set.startsWith("off"));
  console.log("\nRule grid (answer when the best chunk's share ≥ S or its matched-term mass ≥ M):\n| S \\ M | 1.0 | 1.5 | 2.0 |\n| --- | --- | --- | --- |");
  for (const S of [0.4, 0.45, 0.5, 0.55, 0.6]) {
    const cells = [1.0, 1.5, 2.0].map((M) => {
      const answered = (r: Row) => r.share >= S || r.mass >= M;
      return `${on.filter(answered).length}/${on.length} answered, ${off.filter((r) => !answered(r)).length}/${off.length} refused`;
    });
    console.log(`| ${S} | ${cells.join(" | ")} |`);
  }
  console.log(
    `\nCurrent rule (share ≥ ${MIN_SHARE} or mass ≥ ${MIN_MASS}, src/answer/relevance.ts): on-topic answered ${on.filter((r) => r.answered).length}/${on.length}, off-topic refused ${off.filter((r) => !r.answered).length}/${off.length}`,
  );
  if (process.argv.includes("-v")) for (const r of rows) console.log(r.set.padEnd(16), r.share.toFixed(3), r.mass.toFixed(3), r.question);
} finally {
  rmSync(work, { recursive: true, force: true });
}
