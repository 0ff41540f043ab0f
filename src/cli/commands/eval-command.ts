import type { AppConfig } from "../../config/config.ts";
import { AppError } from "../../errors/app-error.ts";
import { readQaFile } from "../../eval/qa-file.ts";
import { type EvalResult, runEval } from "../../eval/run-eval.ts";
import { KnowledgeBase, MAX_K } from "../../knowledge-base/knowledge-base.ts";
import { parseCommandArgs } from "../args.ts";

export const EVAL_USAGE = `Usage: npm run eval -- --qa FILE.jsonl [-k 1,3,5,10] [--json] [--store DIR]

Retrieval quality for a question file (one JSON object per line):
  {"question": "...", "page": 14}                         hit when a retrieved chunk is on PDF page 14
  {"question": "...", "source": "guide.md", "contains": "4096"}   hit when a chunk of guide.md contains "4096"
Reports hit@k for each k and MRR; --verbose lists the questions that missed.`;

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
    },
    EVAL_USAGE,
  );
  if (values.help) {
    console.log(EVAL_USAGE);
    return 0;
  }
  if (!values.qa) throw new AppError("BAD_REQUEST", `--qa FILE is required.\n\n${EVAL_USAGE}`, { status: 400 });
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
