import type { AnyNode, Element } from "domhandler";
import { parseDocument } from "htmlparser2";

/**
 * HTML → Markdown-like plain text. Headings become `#` lines so the Markdown section walker can track heading paths;
 * tables become one readable line per row ("Header: value | Header: value"), with rowspan/colspan cells repeated so
 * every row stands on its own when a chunk is cut out of the middle of a table. Scripts, styles and images vanish.
 */
const SKIP = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "iframe",
  "object",
  "head",
  "img",
  "picture",
  "video",
  "audio",
  "canvas",
  "button",
  "select",
  "form",
]);
const BLOCK = new Set([
  "p",
  "div",
  "section",
  "article",
  "main",
  "header",
  "footer",
  "aside",
  "nav",
  "blockquote",
  "ul",
  "ol",
  "dl",
  "dt",
  "dd",
  "figure",
  "figcaption",
  "details",
  "summary",
  "hr",
  "address",
  "center",
]);

function isElement(node: AnyNode): node is Element {
  return node.type === "tag" || node.type === "script" || node.type === "style";
}

function textOf(node: AnyNode, depth = 0): string {
  const out: string[] = [];
  if ("children" in node) for (const c of (node as { children: AnyNode[] }).children) walk(c, out, depth + 1);
  return out.join("").replace(/\s+/g, " ").trim();
}

function tableToText(table: Element, depth: number): string {
  const rows: Element[] = [];
  const collect = (n: AnyNode, d: number): void => {
    if (!isElement(n) || d > MAX_DEPTH) return;
    if (n.name === "tr") rows.push(n);
    else if (n.name !== "table" || n === table) for (const c of n.children) collect(c, d + 1);
  };
  collect(table, depth);

  // Lay cells out on a grid, honouring rowspan/colspan, so spanned values repeat on every row they cover.
  const grid: string[][] = [];
  const isHeaderRow: boolean[] = [];
  rows.forEach((tr, r) => {
    grid[r] ??= [];
    const cells = tr.children.filter((c): c is Element => isElement(c) && (c.name === "td" || c.name === "th"));
    isHeaderRow[r] = cells.length > 0 && cells.every((c) => c.name === "th");
    let col = 0;
    for (const cell of cells) {
      while (grid[r]?.[col] !== undefined) col++;
      const text = textOf(cell, depth);
      const rowspan = Math.min(Math.max(Number.parseInt(cell.attribs.rowspan ?? "1", 10) || 1, 1), 1000);
      const colspan = Math.min(Math.max(Number.parseInt(cell.attribs.colspan ?? "1", 10) || 1, 1), 100);
      for (let dr = 0; dr < rowspan && r + dr < rows.length; dr++) {
        const row = grid[r + dr] ?? [];
        grid[r + dr] = row;
        for (let dc = 0; dc < colspan; dc++) row[col + dc] = text;
      }
      col += colspan;
    }
  });

  const headerIndex = isHeaderRow.indexOf(true);
  const header = headerIndex >= 0 ? grid[headerIndex] : undefined;
  const lines: string[] = [];
  grid.forEach((row, r) => {
    if (r === headerIndex) return;
    const cells = Array.from(row, (v) => v ?? "");
    if (cells.every((c) => c === "")) return;
    const parts = cells.map((value, c) => {
      const h = header?.[c];
      return h && c > 0 ? `${h}: ${value}` : value;
    });
    lines.push(parts.filter((p) => p.trim() !== "").join(" | "));
  });
  return `\n\n${lines.join("\n")}\n\n`;
}

// Deeper nesting than this is hostile or broken markup; its text is dropped rather than risking the stack.
const MAX_DEPTH = 256;

function walk(node: AnyNode, out: string[], depth = 0): void {
  if (depth > MAX_DEPTH) return;
  if (node.type === "text") {
    out.push((node as unknown as { data: string }).data);
    return;
  }
  if (!isElement(node)) {
    if ("children" in node) for (const c of (node as { children: AnyNode[] }).children) walk(c, out, depth + 1);
    return;
  }
  const name = node.name.toLowerCase();
  if (SKIP.has(name)) return;
  if (name === "table") {
    out.push(tableToText(node, depth));
    return;
  }
  if (name === "br") {
    out.push("\n");
    return;
  }
  const heading = /^h([1-6])$/.exec(name);
  if (heading) {
    out.push(`\n\n${"#".repeat(Number(heading[1]))} ${textOf(node, depth)}\n\n`);
    return;
  }
  if (name === "pre") {
    out.push(`\n\n\`\`\`\n${textOfPre(node, depth)}\n\`\`\`\n\n`);
    return;
  }
  if (name === "li") out.push("\n- ");
  else if (BLOCK.has(name) || name === "tr") out.push("\n\n");
  for (const c of node.children) walk(c, out, depth + 1);
  if (BLOCK.has(name)) out.push("\n\n");
}

function textOfPre(node: AnyNode, depth: number): string {
  if (depth > MAX_DEPTH) return "";
  if (node.type === "text") return (node as unknown as { data: string }).data;
  if ("children" in node) return (node as { children: AnyNode[] }).children.map((c) => textOfPre(c, depth + 1)).join("");
  return "";
}

export interface HtmlText {
  title: string | undefined;
  text: string;
}

export function htmlToText(html: string): HtmlText {
  const doc = parseDocument(html, { decodeEntities: true, lowerCaseTags: true });
  let title: string | undefined;
  const findTitle = (n: AnyNode, depth: number): void => {
    if (title !== undefined || depth > MAX_DEPTH) return;
    if (isElement(n) && n.name === "title") title = textOf(n, depth) || undefined;
    else if ("children" in n) for (const c of (n as { children: AnyNode[] }).children) findTitle(c, depth + 1);
  };
  findTitle(doc, 0);
  const out: string[] = [];
  for (const c of doc.children) walk(c, out);
  const text = out
    .join("")
    // `&nbsp;` is decoded here, after the loader normalised the raw markup, so it is folded with the other blanks.
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/ *\n */g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return { title, text };
}
