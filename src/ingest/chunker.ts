import type { Section } from "./document.ts";
import { splitLong, splitSentences } from "./sentences.ts";

export interface ChunkerSettings {
  /** Target chunk length in characters (a CJK character counts as one). */
  chunkSize: number;
  /** Characters of trailing whole sentences repeated at the start of the next chunk. */
  chunkOverlap: number;
}

/** Bump whenever chunk text or boundaries change for the same input, so an older index asks to be rebuilt. */
export const CHUNKER_VERSION = 2;

export interface TextChunk {
  text: string;
  headings: string[];
  page?: number;
  /** Character offsets into the document's extracted text (sections joined by a blank line). */
  start: number;
  end: number;
}

interface Piece {
  text: string;
  start: number;
}

/**
 * A short section that only introduces the next one (a chapter heading and one line) is folded into it, so it does not
 * become a chunk of its own that matches nothing but its heading.
 */
function foldIntroSections(sections: Section[], chunkSize: number): (Section & { start: number })[] {
  const out: (Section & { start: number })[] = [];
  let offset = 0;
  let carry: (Section & { start: number }) | undefined;
  for (const s of sections) {
    const current = { ...s, start: offset };
    offset += s.text.length + 2;
    if (carry) {
      const sameStart = carry.headings.every((h, i) => current.headings[i] === h);
      if (sameStart && carry.page === current.page && carry.text.length + current.text.length <= chunkSize * 2) {
        // The same blank line the document text has between sections, so offsets stay true after the fold.
        current.text = `${carry.text}\n\n${current.text}`;
        current.start = carry.start;
      } else out.push(carry);
      carry = undefined;
    }
    if (current.text.length < chunkSize / 3) carry = current;
    else out.push(current);
  }
  if (carry) out.push(carry);
  return out;
}

function pieces(section: Section & { start: number }, max: number): Piece[] {
  const out: Piece[] = [];
  let pos = section.start;
  for (const sentence of splitSentences(section.text)) {
    for (const part of splitLong(sentence, max)) {
      out.push({ text: part, start: pos });
      pos += part.length;
    }
  }
  return out;
}

function endsParagraph(text: string | undefined): boolean {
  return text !== undefined && /\n\s*\n\s*$/.test(text);
}

export function chunkSections(sections: Section[], settings: ChunkerSettings): TextChunk[] {
  const { chunkSize, chunkOverlap } = settings;
  const chunks: TextChunk[] = [];
  for (const section of foldIntroSections(sections, chunkSize)) {
    const ps = pieces(section, chunkSize);
    let i = 0;
    const sectionChunks: TextChunk[] = [];
    // Piece index where each chunk starts, so a merged tail can be rebuilt from the pieces themselves.
    const firstPiece: number[] = [];
    const joinPieces = (from: number, to: number): string =>
      ps
        .slice(from, to)
        .map((p) => p.text)
        .join("")
        .trim();
    while (i < ps.length) {
      let j = i;
      let len = 0;
      while (j < ps.length && (j === i || len + (ps[j]?.text.length ?? 0) <= chunkSize)) {
        // Prefer to end a chunk where a paragraph ends once it is half full: a chunk that starts with its
        // paragraph's first sentence ("ChatGLM 是…") keeps the subject its later sentences refer to.
        if (j > i && len >= chunkSize / 2 && endsParagraph(ps[j - 1]?.text)) break;
        len += ps[j]?.text.length ?? 0;
        j++;
      }
      const paragraphBreak = endsParagraph(ps[j - 1]?.text);
      const first = ps[i];
      const last = ps[j - 1];
      if (!first || !last) break;
      const text = joinPieces(i, j);
      if (text) {
        firstPiece.push(i);
        sectionChunks.push({
          text,
          headings: section.headings,
          ...(section.page === undefined ? {} : { page: section.page }),
          start: first.start,
          end: last.start + last.text.length,
        });
      }
      if (j >= ps.length) break;
      // Step back over whole sentences worth at most `chunkOverlap` characters, but always move forward.
      // No overlap across a paragraph break: the next paragraph starts a new thought. The overlap leaves the next chunk
      // room for the piece that did not fit, so that chunk never repeats the overlap and nothing else.
      let back = j;
      let overlap = 0;
      const budget = Math.min(chunkOverlap, chunkSize - (ps[j]?.text.length ?? 0));
      while (!paragraphBreak && back - 1 > i && overlap + (ps[back - 1]?.text.length ?? 0) <= budget) {
        overlap += ps[back - 1]?.text.length ?? 0;
        back--;
      }
      i = back;
    }
    // A tiny tail reads better merged into the chunk before it.
    const tail = sectionChunks.at(-1);
    const prev = sectionChunks.at(-2);
    // Rebuilt from the pieces: gluing trimmed texts would drop the space between two English sentences.
    const prevFirst = firstPiece.at(-2);
    if (tail && prev && prevFirst !== undefined && tail.text.length < chunkSize / 4 && prev.text.length + tail.text.length <= chunkSize * 1.25) {
      sectionChunks.splice(-2, 2, { ...prev, text: joinPieces(prevFirst, ps.length), end: tail.end });
    }
    chunks.push(...sectionChunks);
  }
  return chunks;
}
