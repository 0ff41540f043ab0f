import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { splitLong, splitSentences } from "../src/ingest/sentences.ts";

/**
 * A synthetic corpus for the scale benchmark: chunk-like texts (300–400 characters) recombined from the real sentences
 * of docs-corpus/*.md with a fixed seed, so vocabulary and term statistics look like the project's Chinese/English
 * notes while the count can be anything. Runs of consecutive sentences are kept (a chunk of a real document reads
 * like that), with random jumps to other places and documents.
 */

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Markdown to plain prose lines: no front matter, code fences, images, link targets, emphasis marks or table pipes. */
function plainLines(markdown: string): string[] {
  const body = markdown.replace(/^---\n[\s\S]*?\n---\n/, "");
  const out: string[] = [];
  let fence = false;
  for (const raw of body.split("\n")) {
    if (/^\s{0,3}(```|~~~)/.test(raw)) {
      fence = !fence;
      continue;
    }
    if (fence) continue;
    const line = raw
      .replace(/!\[[^\]]*\]\([^)]*\)/g, " ")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, " ")
      .replace(/https?:\/\/\S+/g, " ")
      .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+/, "")
      .replace(/[*_`|]+/g, " ")
      .replace(/\s+/g, " ")
      .trim();
    if (line && !/^[-:\s]+$/.test(line)) out.push(line);
  }
  return out;
}

/** The sentences of docs-corpus/*.md (SOURCES.md excluded), in document order; over-long ones cut at clause marks. */
export function corpusSentences(docsDir: string): string[] {
  const files = readdirSync(docsDir)
    .filter((f) => f.endsWith(".md") && f !== "SOURCES.md")
    .sort();
  const sentences: string[] = [];
  for (const f of files) {
    for (const line of plainLines(readFileSync(join(docsDir, f), "utf8"))) {
      for (const s of splitSentences(line)) {
        for (const piece of splitLong(s.trim(), 160)) {
          const t = piece.trim();
          // Keep sentences with some content: at least 6 characters, of which some letters or CJK.
          if (t.length >= 6 && /[\p{L}]/u.test(t)) sentences.push(t);
        }
      }
    }
  }
  return sentences;
}

const ASCII_END = /[A-Za-z0-9.,;:!?)"']$/;
const ASCII_START = /^[A-Za-z0-9("']/;

function join2(a: string, b: string): string {
  if (!a) return b;
  return ASCII_END.test(a) || ASCII_START.test(b) ? `${a} ${b}` : `${a}${b}`;
}

export class SyntheticCorpus {
  private readonly rand: () => number;

  constructor(
    private readonly sentences: readonly string[],
    seed: number,
  ) {
    if (sentences.length < 50) throw new Error(`only ${sentences.length} sentences in the source corpus`);
    this.rand = seededRandom(seed);
  }

  private pick(): number {
    return Math.floor(this.rand() * this.sentences.length);
  }

  private readonly seen = new Set<string>();

  /**
   * One chunk-like text of 300–400 characters: runs of consecutive sentences, jumping elsewhere 35% of the time.
   * Never the same text twice from one generator (a real corpus has no duplicate chunks, and held-out queries drawn
   * from the same generator are then really held out): a repeat is drawn again.
   */
  chunk(): string {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const text = this.draw();
      if (!this.seen.has(text)) {
        this.seen.add(text);
        return text;
      }
    }
    throw new Error("the source sentences cannot make that many distinct chunks");
  }

  private draw(): string {
    const target = 300 + Math.floor(this.rand() * 101);
    let i = this.pick();
    let text = "";
    while (text.length < target) {
      text = join2(text, this.sentences[i]!);
      i = this.rand() < 0.65 && i + 1 < this.sentences.length ? i + 1 : this.pick();
    }
    return text.length > 400 ? text.slice(0, 400) : text;
  }

  /** A question-like query: one sentence (or the first 80 characters of one), as a user would paste or ask. */
  question(): string {
    for (;;) {
      const s = this.sentences[this.pick()]!;
      if (s.length >= 10) return s.length > 80 ? s.slice(0, 80) : s;
    }
  }
}
