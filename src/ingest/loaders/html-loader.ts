import { decodeUtf8, type Loader, titleFromSource } from "../document.ts";
import { htmlToText } from "../html-to-text.ts";
import { normalizeText } from "../../text/normalize.ts";
import { markdownSections } from "./markdown-sections.ts";

export const htmlLoader: Loader = {
  format: "html",
  extensions: [".html", ".htm"],
  async load({ source, data }) {
    const { title, text } = htmlToText(normalizeText(decodeUtf8(data)));
    // htmlToText renders headings as `#` lines, so the Markdown walker gives HTML documents heading paths too.
    const sections = markdownSections(text);
    return { title: title ?? sections[0]?.headings[0] ?? titleFromSource(source), format: "html", sections };
  },
};
