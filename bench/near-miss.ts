import { readFileSync } from "node:fs";

/** A near-miss question and the terms of its concept, which the corpus must not contain. */
export interface NearMiss {
  question: string;
  absent: string[];
}

/**
 * Reads bench/data/near-miss-*.txt: `question<TAB>term|term…` per line, `#` comments; the line `# [held-out]` starts the
 * held-out half (everything before it is the calibration half).
 */
export function readNearMiss(path: string): { calibration: NearMiss[]; heldOut: NearMiss[] } {
  const calibration: NearMiss[] = [];
  const heldOut: NearMiss[] = [];
  let target = calibration;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (/^#\s*\[held-out\]\s*$/.test(line)) target = heldOut;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [question = "", terms = ""] = line.split("\t");
    target.push({
      question: question.trim(),
      absent: terms
        .split("|")
        .map((t) => t.trim())
        .filter(Boolean),
    });
  }
  return { calibration, heldOut };
}

/** The first of `terms` that occurs in `text` (case-insensitive; Latin terms on word boundaries), if any. */
export function firstPresent(terms: readonly string[], text: string): string | undefined {
  const lower = text.normalize("NFKC").toLowerCase();
  return terms.find((t) => {
    const term = t.toLowerCase();
    if (!/^[a-z0-9]/.test(term)) return lower.includes(term);
    const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(?<![a-z0-9])${escaped}(?![a-z0-9])`).test(lower);
  });
}
