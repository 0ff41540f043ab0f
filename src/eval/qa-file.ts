import { readFileSync } from "node:fs";
import { z } from "zod";
import { AppError } from "../errors/app-error.ts";

/**
 * A question file: one JSON object per line. A retrieved chunk is a hit when it meets every expectation given:
 * `page` (1-based PDF page), `source` (path relative to the docs folder, or its tail), `contains` (text, or texts that
 * must all appear, compared without spaces and case).
 */
const QaLine = z
  .object({
    id: z.union([z.string(), z.number()]).optional(),
    question: z.string().min(1),
    page: z.number().int().positive().optional(),
    source: z.string().min(1).optional(),
    contains: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  })
  .refine((q) => q.page !== undefined || q.source !== undefined || q.contains !== undefined, "needs at least one of page, source, contains");

export type QaItem = z.infer<typeof QaLine> & { id: string };

export function parseQaFile(text: string, name = "question file"): QaItem[] {
  const items: QaItem[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || line.trim().startsWith("//")) return;
    try {
      const parsed = QaLine.safeParse(JSON.parse(line));
      if (parsed.success) items.push({ ...parsed.data, id: String(parsed.data.id ?? `q${i + 1}`) });
      else problems.push(`line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join(".") || "line"}: ${x.message}`).join("; ")}`);
    } catch {
      problems.push(`line ${i + 1}: not valid JSON`);
    }
  });
  if (problems.length) throw new AppError("QA_FILE_INVALID", `${name} has invalid lines:\n  ${problems.slice(0, 10).join("\n  ")}`, { status: 400 });
  if (items.length === 0) throw new AppError("QA_FILE_INVALID", `${name} has no questions`, { status: 400 });
  return items;
}

/** A question file's text, or QA_FILE_INVALID saying why it cannot be read. */
export function readQuestionFileText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new AppError("QA_FILE_INVALID", `Cannot read question file ${path}: ${(err as Error).message}`, { status: 400 });
  }
}

export function readQaFile(path: string): QaItem[] {
  return parseQaFile(readQuestionFileText(path), path);
}

/** Comparison form for expected strings: NFKC, lower case, no white space. */
export const squash = (s: string): string => s.normalize("NFKC").toLowerCase().replace(/\s+/g, "");

export function isHit(item: QaItem, chunk: { source: string; page?: number; text: string }): boolean {
  if (item.page !== undefined && chunk.page !== item.page) return false;
  if (item.source !== undefined && chunk.source !== item.source && !chunk.source.endsWith(`/${item.source}`)) return false;
  if (item.contains !== undefined) {
    const text = squash(chunk.text);
    const needles = Array.isArray(item.contains) ? item.contains : [item.contains];
    if (!needles.every((n) => text.includes(squash(n)))) return false;
  }
  return true;
}
