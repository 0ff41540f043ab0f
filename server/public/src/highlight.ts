import { highlightRanges } from "./highlight-ranges.ts";

/** The snippet as text nodes and <mark> elements (never parsed as HTML). */
export function highlightSnippet(snippet: string, question: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const [start, end] of highlightRanges(snippet, question)) {
    if (start > last) fragment.append(snippet.slice(last, start));
    const mark = document.createElement("mark");
    mark.textContent = snippet.slice(start, end);
    fragment.append(mark);
    last = end;
  }
  if (last < snippet.length) fragment.append(snippet.slice(last));
  return fragment;
}
