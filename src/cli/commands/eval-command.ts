import type { AppConfig } from "../../config/config.ts";
import { AppError } from "../../errors/app-error.ts";
import { createAnswerService } from "../../answer/create-answer-service.ts";
import { readQaFile } from "../../eval/qa-file.ts";
import { readQuestionSet } from "../../eval/question-set.ts";
import { formatScores, runAnswerEval, scoreBy } from "../../eval/run-answer-eval.ts";
import { type EvalResult, runEval } from "../../eval/run-eval.ts";
import { KnowledgeBase, MAX_K } from "../../knowledge-base/knowledge-base.ts";
import { parseCommandArgs } from "../args.ts";

export const EVAL_USAGE = `Usage: npm run eval -- --qa FILE.jsonl [-k 1,3,5,10] [--json] [--store DIR]
       npm run eval -- --answers FILE.jsonl [--split cal|held] [--json] [--store DIR] [-v]

Retrieval quality for a question file (one JSON object per line):
  {"question": "...", "page": 14}                         hit when a retrieved chunk is on PDF page 14
  {"question": "...", "source": "guide.md", "contains": "4096"}   hit when a chunk of guide.md contains "4096"
Reports hit@k for each k and MRR; --verbose lists the questions that missed.

--answers scores the answers themselves, as POST /ask gives them with the configured model (LLM_PROVIDER) or offline:
whether each answer holds the fact, answerable questions wrongly refused, unanswerable ones refused, and hit@k, per
split, kind and language. The file format is bench/data/user-questions/FORMAT.md.`;

export function formatEval(r: EvalResult): string {
  const hits = Object.entries(r.hitAt)
    .map(([k, v]) => `hit@${k} ${v.toFixed(3)}`)
    .join("  ");
  return `${r.questions} questions  ${hits}  MRR@${r.depth} ${r.mrr.toFixed(3)}  (search p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms)`;
}

export async function evalCommand(argv: string[], loadConfig: (o: { storeDir?: string }) => AppConfig): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      qa: { type: "string" },
      k: { type: "string", short: "k" },
      json: { type: "boolean" },
      store: { type: "string" },
      verbose: { type: "boolean", short: "v" },
      answers: { type: "string" },
      split: { type: "string" },
    },
    EVAL_USAGE,
  );
  if (values.help) {
    console.log(EVAL_USAGE);
    return 0;
  }
  if (values.answers) return answersEval(values.answers, values, loadConfig);
  if (!values.qa) throw new AppError("BAD_REQUEST", `--qa FILE or --answers FILE is required.\n\n${EVAL_USAGE}`, { status: 400 });
  const ks = (values.k ?? "1,3,5,10").split(",").map((s) => Number(s.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1 || k > MAX_K))
    throw new AppError("BAD_REQUEST", `-k takes whole numbers from 1 to ${MAX_K}, comma-separated (got "${values.k}")`, { status: 400 });
  const items = readQaFile(values.qa);
  const kb = await KnowledgeBase.open(loadConfig(values.store ? { storeDir: values.store } : {}));
  await kb.load();
  const result = await runEval(kb, items, ks);
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(formatEval(result));
    if (values.verbose)
      for (const q of result.perQuestion.filter((x) => x.rank === null || x.rank > 1))
        console.log(`  ${q.rank === null ? "miss" : `rank ${q.rank}`}  ${q.id}  ${q.question}`);
  }
  return 0;
}

async function answersEval(
  file: string,
  values: { split?: string; json?: boolean; store?: string; verbose?: boolean },
  loadConfig: (o: { storeDir?: string }) => AppConfig,
): Promise<number> {
  if (values.split !== undefined && values.split !== "cal" && values.split !== "held")
    throw new AppError("BAD_REQUEST", `--split takes cal or held (got "${values.split}")`, { status: 400 });
  let questions = readQuestionSet(file);
  if (values.split) questions = questions.filter((q) => q.split === values.split);
  const config = loadConfig(values.store ? { storeDir: values.store } : {});
  const kb = await KnowledgeBase.open(config);
  await kb.load();
  const answers = await createAnswerService(kb, config);
  const { results, mode } = await runAnswerEval(kb, answers, questions);
  if (values.json) console.log(JSON.stringify({ mode, scores: scoreBy(results), results }, null, 2));
  else {
    console.log(`${results.length} questions, ${mode === "llm" ? `LLM mode (${answers.modelName})` : "offline (extractive)"}\n`);
    console.log(formatScores(scoreBy(results)));
    if (values.verbose)
      for (const r of results.filter((x) => x.outcome !== "held" && x.outcome !== "refused-ok"))
        console.log(`  ${r.outcome.padEnd(22)} ${r.id}  ${r.question}\n      → ${r.answer.replace(/\s+/g, " ").slice(0, 160)}`);
  }
  await kb.close();
  return 0;
}
