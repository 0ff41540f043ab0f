import type { AnswerService } from "../answer/answer-service.ts";
import type { KnowledgeBase } from "../knowledge-base/knowledge-base.ts";
import { type EvalQuestion, holdsAll, isAnswerPassage } from "./question-set.ts";

/**
 * Answer-level evaluation: every question goes through the real answer service (as `POST /ask` does) and is scored
 * on what a user sees — does the answer hold the fact, was an answerable question refused, was an unanswerable one
 * refused — and, for stand-alone questions, on retrieval (rank of the passage holding the answer in the top 10).
 */
export type Outcome = "held" | "wrong" | "refused" | "refused-ok" | "answered-unanswerable";

export interface QuestionResult {
  id: string;
  split: EvalQuestion["split"];
  kind: EvalQuestion["kind"];
  lang: EvalQuestion["lang"];
  question: string;
  outcome: Outcome;
  /** 1-based rank of the answer passage in the top 10 for the question alone; null = not there; undefined = not measured. */
  rank?: number | null;
  answer: string;
  ms: number;
}

export interface GroupScore {
  answerable: number;
  held: number;
  wrong: number;
  refused: number;
  unanswerable: number;
  unanswerableRefused: number;
  ranked: number;
  hitAt1: number;
  hitAt5: number;
  hitAt10: number;
  mrr: number;
}

export interface AnswerEvalResult {
  mode: "llm" | "extractive";
  results: QuestionResult[];
}

export const RETRIEVAL_DEPTH = 10;

export async function runAnswerEval(
  kb: KnowledgeBase,
  answers: AnswerService,
  questions: readonly EvalQuestion[],
  opts: { k?: number } = {},
): Promise<AnswerEvalResult> {
  const results: QuestionResult[] = [];
  for (const q of questions) {
    let rank: number | null | undefined;
    // A follow-up's passage depends on the conversation, so retrieval is scored on stand-alone questions only.
    if (q.answerable && !q.history?.length) {
      const hits = await kb.retrieve(q.question, RETRIEVAL_DEPTH);
      const i = hits.findIndex((h) => isAnswerPassage(q, h));
      rank = i >= 0 ? i + 1 : null;
    }
    const t0 = performance.now();
    const res = await answers.ask({ question: q.question, ...(q.history ? { history: q.history } : {}), ...(opts.k ? { k: opts.k } : {}) });
    const ms = performance.now() - t0;
    let outcome: Outcome;
    if (q.answerable) outcome = !res.found ? "refused" : holdsAll(res.answer, q.answer ?? []) ? "held" : "wrong";
    else outcome = res.found ? "answered-unanswerable" : "refused-ok";
    results.push({
      id: q.id,
      split: q.split,
      kind: q.kind,
      lang: q.lang,
      question: q.question,
      outcome,
      ...(rank !== undefined ? { rank } : {}),
      answer: res.answer,
      ms,
    });
  }
  return { mode: answers.mode, results };
}

export function scoreGroup(results: readonly QuestionResult[]): GroupScore {
  const answerable = results.filter((r) => r.outcome === "held" || r.outcome === "wrong" || r.outcome === "refused");
  const unanswerable = results.filter((r) => r.outcome === "refused-ok" || r.outcome === "answered-unanswerable");
  const ranked = results.filter((r) => r.rank !== undefined);
  const hit = (k: number) => ranked.filter((r) => r.rank !== null && r.rank !== undefined && r.rank <= k).length;
  return {
    answerable: answerable.length,
    held: answerable.filter((r) => r.outcome === "held").length,
    wrong: answerable.filter((r) => r.outcome === "wrong").length,
    refused: answerable.filter((r) => r.outcome === "refused").length,
    unanswerable: unanswerable.length,
    unanswerableRefused: unanswerable.filter((r) => r.outcome === "refused-ok").length,
    ranked: ranked.length,
    hitAt1: hit(1),
    hitAt5: hit(5),
    hitAt10: hit(10),
    mrr: ranked.reduce((s, r) => s + (r.rank ? 1 / r.rank : 0), 0),
  };
}

/** Scores for the whole set and per split, kind, language and (for unanswerable questions) near-miss vs off-topic. */
export function scoreBy(results: readonly QuestionResult[]): { group: string; score: GroupScore }[] {
  const groups: { group: string; score: GroupScore }[] = [{ group: "all", score: scoreGroup(results) }];
  const by = (label: string, key: (r: QuestionResult) => string) => {
    const values = [...new Set(results.map(key))].sort();
    for (const v of values) groups.push({ group: `${label} ${v}`, score: scoreGroup(results.filter((r) => key(r) === v)) });
  };
  by("split", (r) => r.split);
  by("kind", (r) => r.kind);
  by("lang", (r) => r.lang);
  return groups;
}

const pct = (n: number, d: number) => (d === 0 ? "–" : `${((100 * n) / d).toFixed(0)} %`);

/** A Markdown table: one row a group. */
export function formatScores(groups: readonly { group: string; score: GroupScore }[]): string {
  const head = "| group | answerable | holds the fact | wrong answer | wrongly refused | unanswerable refused | hit@1 | hit@5 | hit@10 | MRR |";
  const rule = "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";
  const rows = groups.map(({ group, score: s }) =>
    [
      group,
      s.answerable,
      `${s.held} (${pct(s.held, s.answerable)})`,
      `${s.wrong} (${pct(s.wrong, s.answerable)})`,
      `${s.refused} (${pct(s.refused, s.answerable)})`,
      s.unanswerable ? `${s.unanswerableRefused}/${s.unanswerable} (${pct(s.unanswerableRefused, s.unanswerable)})` : "–",
      pct(s.hitAt1, s.ranked),
      pct(s.hitAt5, s.ranked),
      pct(s.hitAt10, s.ranked),
      s.ranked ? (s.mrr / s.ranked).toFixed(3) : "–",
    ].join(" | "),
  );
  return [head, rule, ...rows.map((r) => `| ${r} |`)].join("\n");
}
