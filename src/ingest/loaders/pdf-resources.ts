import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * pdf.js needs its CMaps to decode CID-keyed fonts: without them Chinese text silently disappears (a 196-page Chinese
 * book gave 27 Chinese characters instead of 90,130). Resolve the folders of the pdfjs-dist copy pdf-parse uses.
 */
export function pdfjsResourceUrls(): { cMapUrl: string; standardFontDataUrl: string } {
  const require = createRequire(import.meta.url);
  const pdfParseEntry = require.resolve("pdf-parse");
  const fromPdfParse = createRequire(pdfParseEntry);
  const root = dirname(fromPdfParse.resolve("pdfjs-dist/package.json"));
  const asDirUrl = (p: string): string => `${p}/`;
  return { cMapUrl: asDirUrl(join(root, "cmaps")), standardFontDataUrl: asDirUrl(join(root, "standard_fonts")) };
}
