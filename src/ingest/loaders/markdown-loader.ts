import { parse as parseYaml } from "yaml";
import { decodeUtf8, type Loader, type ParsedDocument, titleFromSource } from "../document.ts";
import { normalizeText } from "../../text/normalize.ts";
import { markdownSections } from "./markdown-sections.ts";

const FRONT_MATTER = /^---[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;

function frontMatterTitle(yamlText: string): string | undefined {
  try {
    const data: unknown = parseYaml(yamlText);
    if (data && typeof data === "object" && "title" in data) {
      const title = (data as { title: unknown }).title;
      if (typeof title === "string" || typeof title === "number") return String(title).trim() || undefined;
    }
  } catch {
    // Broken front matter is the author's problem, not a reason to lose the document.
  }
  return undefined;
}

function firstLineTitle(text: string): string | undefined {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!line || line.length > 100) return undefined;
  return line.replace(/^#+\s*/, "");
}

export function parseMarkdown(raw: string, source: string): ParsedDocument {
  let text = normalizeText(raw);
  let title: string | undefined;
  const fm = FRONT_MATTER.exec(text);
  if (fm) {
    title = frontMatterTitle(fm[1] ?? "");
    text = text.slice(fm[0].length);
  }
  // The first H1 as the walker sees it: a `# comment` inside a code fence is not a title, and link syntax is cleaned.
  let h1: string | undefined;
  const sections = markdownSections(text, {
    onHeading: (level, heading) => {
      if (level === 1) h1 ??= heading;
    },
  });
  title ??= h1 ?? firstLineTitle(sections[0]?.text ?? "") ?? titleFromSource(source);
  return { title, format: "markdown", sections };
}

export const markdownLoader: Loader = {
  format: "markdown",
  extensions: [".md", ".markdown"],
  async load({ source, data }) {
    return parseMarkdown(decodeUtf8(data), source);
  },
};
