import { type Loader, titleFromSource } from "../document.ts";
import { ParseError } from "../../errors/app-error.ts";
import { isolatedLoader } from "../isolated/isolated-loader.ts";
import { pagesToSections } from "./pdf-layout.ts";
import { pdfjsResourceUrls } from "./pdf-resources.ts";

let resources: ReturnType<typeof pdfjsResourceUrls> | undefined;

/**
 * A page needs at least a page object in the file. A page tree whose nodes list the same child again and again (a DAG)
 * claims far more pages than that — 10^9 pages in 2 KB — and pdf.js would walk every one of them. Refused up front,
 * with a message; claims that are merely large are left to the worker's time and memory limits.
 */
const MIN_BYTES_PER_PAGE = 4;

function reason(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  if (name === "PasswordException") return "encrypted PDF: remove the password and upload again";
  if (name === "InvalidPDFException") return `truncated or corrupt PDF (${(err as Error).message})`;
  return `could not be parsed as PDF (${err instanceof Error ? err.message : String(err)})`;
}

/** What the file starts with instead of `%PDF-`, for the message: `"<!doctype html>"`, or binary data. */
function describeStart(data: Buffer): string {
  const head = new TextDecoder("utf-8", { fatal: false }).decode(data.subarray(0, 64)).trimStart();
  const line = (head.split(/\r?\n/)[0] ?? "").replace(/\p{C}/gu, "").slice(0, 24);
  const printable = line.length > 0 && !head.slice(0, line.length).includes("\ufffd");
  return printable ? `it starts with ${JSON.stringify(line)}` : "it starts with binary data";
}

/** pdf-parse (pdf.js) in the calling thread. The worker runs this; everything else uses `pdfLoader`. */
export const pdfLoaderInProcess: Loader = {
  format: "pdf",
  extensions: [".pdf"],
  async load({ source, data }) {
    if (data.length === 0) throw new ParseError(source, "empty file (0 bytes)");
    if (data.subarray(0, 1024).indexOf("%PDF-") < 0) throw new ParseError(source, `not a PDF: no %PDF- header, ${describeStart(data)}`);
    resources ??= pdfjsResourceUrls();
    // Imported here, not at the top: only the parse worker runs this, and the main thread then never loads pdf.js.
    const { PDFParse } = await import("pdf-parse");
    // pdf.js takes ownership of (and detaches) the buffer it is given, so hand it a copy.
    const parser = new PDFParse({ data: new Uint8Array(data), ...resources, cMapPacked: true, verbosity: 0 });
    try {
      // Metadata first: it loads the document once (getText reuses it) and gives the page count before any page is read.
      const info = await parser.getInfo().catch((err: unknown) => {
        if (err instanceof Error && (err.name === "PasswordException" || err.name === "InvalidPDFException")) throw err;
        return undefined;
      });
      if (info && info.total * MIN_BYTES_PER_PAGE > data.length) {
        throw new ParseError(
          source,
          `huge page count: the page tree claims ${info.total.toLocaleString("en")} pages in a ${data.length.toLocaleString("en")}-byte file (corrupt or malicious PDF)`,
        );
      }
      const result = await parser.getText();
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

/** The PDF loader callers use: parses in a worker thread with time and memory limits (see src/ingest/isolated). */
export const pdfLoader: Loader = isolatedLoader(pdfLoaderInProcess, "pdf");
