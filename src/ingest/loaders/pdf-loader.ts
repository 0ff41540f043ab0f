import { PDFParse } from "pdf-parse";
import { type Loader, titleFromSource } from "../document.ts";
import { ParseError } from "../../errors/app-error.ts";
import { pagesToSections } from "./pdf-layout.ts";
import { pdfjsResourceUrls } from "./pdf-resources.ts";

let resources: ReturnType<typeof pdfjsResourceUrls> | undefined;

function reason(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  if (name === "PasswordException") return "the PDF is encrypted (password protected)";
  if (name === "InvalidPDFException") return `not a valid PDF (${(err as Error).message})`;
  return `could not be parsed as PDF (${err instanceof Error ? err.message : String(err)})`;
}

export const pdfLoader: Loader = {
  format: "pdf",
  extensions: [".pdf"],
  async load({ source, data }) {
    if (data.length === 0) throw new ParseError(source, "the file is empty");
    if (data.subarray(0, 1024).indexOf("%PDF-") < 0) throw new ParseError(source, "not a PDF file (no %PDF- header)");
    resources ??= pdfjsResourceUrls();
    // pdf.js takes ownership of (and detaches) the buffer it is given, so hand it a copy.
    const parser = new PDFParse({ data: new Uint8Array(data), ...resources, cMapPacked: true, verbosity: 0 });
    try {
      const result = await parser.getText();
      const info = await parser.getInfo().catch(() => undefined);
      const pages = [...result.pages].sort((a, b) => a.num - b.num);
      const texts: string[] = [];
      for (const p of pages) texts[p.num - 1] = p.text;
      const sections = pagesToSections(Array.from(texts, (t) => t ?? ""));
      const metaTitle = (info?.info as { Title?: unknown } | undefined)?.Title;
      const title = typeof metaTitle === "string" && metaTitle.trim() ? metaTitle.trim() : titleFromSource(source);
      return { title, format: "pdf", sections };
    } catch (err) {
      if (err instanceof ParseError) throw err;
      throw new ParseError(source, reason(err), err);
    } finally {
      await parser.destroy().catch(() => undefined);
    }
  },
};
