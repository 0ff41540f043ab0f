import { decodeUtf8, type Loader, titleFromSource } from "../document.ts";
import { htmlToText } from "../html-to-text.ts";
import { normalizeText } from "../../text/normalize.ts";
import { isolatedLoader } from "../isolated/isolated-loader.ts";
import { markdownSections } from "./markdown-sections.ts";

/** HTML to sections in the calling thread. The worker runs this; everything else uses `htmlLoader`. */
export const htmlLoaderInProcess: Loader = {
  format: "html",
  extensions: [".html", ".htm"],
  async load({ source, data }) {
    const { title, text } = htmlToText(normalizeText(decodeUtf8(data)));
    // htmlToText renders headings as `#` lines, so the Markdown walker gives HTML documents heading paths too.
    // Its output is already plain text with entities decoded, so the Markdown prose cleaner must not run again: it
    // would strip a decoded "<div>" as a tag and unescape "&amp;lt;" twice.
    const sections = markdownSections(text, { cleanProse: (t) => t });
    return { title: title ?? sections[0]?.headings[0] ?? titleFromSource(source), format: "html", sections };
  },
};

/** The HTML loader callers use: parses in a worker thread with time and memory limits (see src/ingest/isolated). */
export const htmlLoader: Loader = isolatedLoader(htmlLoaderInProcess, "html");
