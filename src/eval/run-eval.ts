import type { KnowledgeBase } from "../knowledge-base/knowledge-base.ts";
import { type EvalReport, summarise } from "./metrics.ts";
import { isHit, type QaItem } from "./qa-file.ts";

export interface EvalResult extends EvalReport {
  perQuestion: { id: string; question: string; rank: number | null }[];
  latencyMs: { p50: number; p99: number };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

export async function runEval(kb: KnowledgeBase, items: readonly QaItem[], ks: readonly number[]): Promise<EvalResult> {
  const depth = Math.max(...ks);
  const perQuestion: EvalResult["perQuestion"] = [];
  const times: number[] = [];
  for (const item of items) {
    const t0 = performance.now();
    const chunks = await kb.retrieve(item.question, depth);
    times.push(performance.now() - t0);
    const idx = chunks.findIndex((c) => isHit(item, c));
    perQuestion.push({ id: item.id, question: item.question, rank: idx >= 0 ? idx + 1 : null });
  }
  times.sort((a, b) => a - b);
  return {
    ...summarise(
      perQuestion.map((q) => q.rank),
      ks,
    ),
    perQuestion,
    latencyMs: { p50: percentile(times, 50), p99: percentile(times, 99) },
  };
}
