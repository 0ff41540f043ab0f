import type { Source } from "./types.ts";

/** `[1]`, `[2][3]` (two matches) and `[1, 2]` / `[1，2]` (one match, two numbers). */
const MARKER = /\[(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\]/g;
const MAY_HAVE_MARKER = /\[\d/;
/** Citation markers inside code or an existing link are left as they are. */
const SKIP = new Set(["CODE", "PRE", "A", "KBD", "SAMP"]);

function citationButton(doc: Document, n: number, source: Source | undefined): HTMLButtonElement {
  const b = doc.createElement("button");
  b.type = "button";
  b.className = "cite";
  b.dataset.n = String(n);
  b.textContent = String(n);
  b.setAttribute("aria-label", source ? `Source ${n}: ${source.title}` : `Source ${n}`);
  if (source) b.title = source.title;
  return b;
}

/**
 * Turns `[n]` markers in rendered text into citation buttons, for n that name one of `sources`. Works on text nodes
 * of the sanitised DOM, so no markup is ever built from strings.
 */
export function linkCitations(root: DocumentFragment | Element, sources: readonly Source[]): void {
  if (sources.length === 0) return;
  const doc = root.ownerDocument ?? document;
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let p = node.parentElement; p && p !== root; p = p.parentElement) {
        if (SKIP.has(p.tagName)) return NodeFilter.FILTER_REJECT;
      }
      return MAY_HAVE_MARKER.test(node.nodeValue ?? "") ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
    },
  });
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n as Text);
  for (const node of nodes) {
    const text = node.nodeValue ?? "";
    const parts: (string | HTMLButtonElement)[] = [];
    let last = 0;
    for (const m of text.matchAll(MARKER)) {
      const numbers = (m[1] ?? "").split(/\s*[,，、]\s*/).map(Number);
      if (!numbers.every((n) => Number.isInteger(n) && n >= 1 && n <= sources.length)) continue;
      parts.push(text.slice(last, m.index));
      for (const n of numbers) parts.push(citationButton(doc, n, sources[n - 1]));
      last = m.index + m[0].length;
    }
    if (last === 0) continue;
    parts.push(text.slice(last));
    node.replaceWith(...parts.filter((p) => p !== ""));
  }
}
