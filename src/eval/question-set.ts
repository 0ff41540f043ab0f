import { z } from "zod";
import { AppError } from "../errors/app-error.ts";
import { readQuestionFileText, squash } from "./qa-file.ts";

/**
 * A user-style question set (bench/data/user-questions/FORMAT.md): one JSON object per line. Answerable questions name
 * the passage that holds the answer (`source`, `page`, `contains`, for hit@k) and the strings a correct answer must
 * contain (`answer`); near-miss and off-topic questions must be refused.
 */
const Turn = z.object({ role: z.enum(["user", "assistant"]), content: z.string().min(1) });
const Needle = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const KINDS = ["fact", "number", "name", "date", "list", "definition", "how", "why", "compare", "yesno", "followup", "near-miss", "off-topic"] as const;
export const LANGS = ["zh", "en", "zh-en", "en-zh"] as const;

const QuestionLine = z
  .object({
    id: z.string().min(1),
    split: z.enum(["cal", "held"]),
    kind: z.enum(KINDS),
    lang: z.enum(LANGS),
    question: z.string().min(1),
    history: z.array(Turn).optional(),
    answerable: z.boolean(),
    source: z.string().min(1).optional(),
    page: z.number().int().positive().optional(),
    contains: z.array(z.string().min(1)).optional(),
    answer: z.array(Needle).optional(),
    note: z.string().optional(),
  })
  .refine((q) => !q.answerable || (q.source !== undefined && (q.answer?.length ?? 0) > 0), "an answerable question needs source and answer");

export type EvalQuestion = z.infer<typeof QuestionLine>;

export function parseQuestionSet(text: string, name = "question set"): EvalQuestion[] {
  const items: EvalQuestion[] = [];
  const problems: string[] = [];
  const ids = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1}: not valid JSON`);
      return;
    }
    const parsed = QuestionLine.safeParse(json);
    if (!parsed.success) {
      problems.push(`line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join(".") || "line"}: ${x.message}`).join("; ")}`);
      return;
    }
    if (ids.has(parsed.data.id)) problems.push(`line ${i + 1}: duplicate id ${parsed.data.id}`);
    ids.add(parsed.data.id);
    items.push(parsed.data);
  });
  if (problems.length) throw new AppError("QA_FILE_INVALID", `${name} has invalid lines:\n  ${problems.slice(0, 10).join("\n  ")}`, { status: 400 });
  if (items.length === 0) throw new AppError("QA_FILE_INVALID", `${name} has no questions`, { status: 400 });
  return items;
}

export function readQuestionSet(path: string): EvalQuestion[] {
  return parseQuestionSet(readQuestionFileText(path), path);
}

export { squash };

/** Every required element is in the text (an inner list: any one of its alternatives). */
export function holdsAll(text: string, needles: readonly (string | readonly string[])[]): boolean {
  const t = squash(text);
  return needles.every((n) => (typeof n === "string" ? [n] : n).some((alt) => t.includes(squash(alt))));
}

/** Whether a retrieved chunk is the passage that holds the answer (source tail, page, every `contains` string). */
export function isAnswerPassage(q: EvalQuestion, chunk: { source: string; page?: number; text: string }): boolean {
  if (!q.answerable || !q.source) return false;
  if (chunk.source !== q.source && !chunk.source.endsWith(`/${q.source}`)) return false;
  if (q.page !== undefined && chunk.page !== q.page) return false;
  const needles = q.contains?.length ? q.contains : (q.answer ?? []);
  return holdsAll(chunk.text, needles);
}
