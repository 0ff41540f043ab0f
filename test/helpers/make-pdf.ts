/**
 * A tiny, dependency-free PDF writer for tests.
 *
 * Every line is drawn with one non-embedded CID font (/STSong-Light, /UniGB-UTF16-H, Adobe-GB1), shown as a hex
 * UTF-16BE string. pdf.js can only turn those codes back into Unicode with its CMaps (UniGB-UTF16-H and
 * Adobe-GB1-UCS2), so a fixture built here fails loudly — Chinese text vanishes — if the loader stops configuring
 * `cMapUrl`. ASCII goes through the same font (UTF-16 covers it), with half-width advances so Latin lines look sane.
 */

export interface MakePdfOptions {
  /** Written to the /Info dictionary. */
  title?: string;
}

const PAGE_WIDTH = 595;
const PAGE_HEIGHT = 842;
const FONT_SIZE = 12;
const LEADING = 18;
const MARGIN_X = 56;
const TOP_Y = 790;

function utf16beHex(text: string): string {
  let hex = "";
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, "0");
  return hex.toUpperCase();
}

/** A PDF text string: a literal when plain printable ASCII, otherwise UTF-16BE with a byte-order mark. */
function pdfString(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
  return `<FEFF${utf16beHex(text)}>`;
}

function contentStream(lines: readonly string[]): string {
  // One `Td` step per line: pdf.js sees a new baseline and starts a new line in its text output.
  const ops = ["BT", `/F1 ${FONT_SIZE} Tf`, `${MARGIN_X} ${TOP_Y} Td`];
  lines.forEach((line, i) => {
    if (i > 0) ops.push(`0 -${LEADING} Td`);
    ops.push(`<${utf16beHex(line)}> Tj`);
  });
  ops.push("ET");
  return `${ops.join("\n")}\n`;
}

/** Builds a PDF with one page per entry of `pages`, each a list of text lines drawn top to bottom. */
export function makePdf(pages: readonly (readonly string[])[], opts: MakePdfOptions = {}): Buffer {
  // Object numbers: 1 catalog, 2 page tree, 3 Type0 font, 4 CIDFont, 5 font descriptor, 6 info, then page + content pairs.
  const bodies: string[] = [];
  const pageIds = pages.map((_, i) => 7 + i * 2);
  bodies[1] = "<< /Type /Catalog /Pages 2 0 R >>";
  bodies[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pages.length} >>`;
  bodies[3] = "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H /DescendantFonts [4 0 R] >>";
  // Adobe-GB1 CIDs 1–95 are the proportional ASCII glyphs (U+0020–U+007E); give them half-width advances.
  bodies[4] =
    "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light " +
    "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> " +
    "/FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>";
  bodies[5] =
    "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] " +
    "/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>";
  bodies[6] = `<< /Producer (kb-assistant test make-pdf)${opts.title === undefined ? "" : ` /Title ${pdfString(opts.title)}`} >>`;
  pages.forEach((lines, i) => {
    const pageId = 7 + i * 2;
    const stream = Buffer.from(contentStream(lines), "latin1");
    bodies[pageId] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] ` + `/Resources << /Font << /F1 3 0 R >> >> /Contents ${pageId + 1} 0 R >>`;
    bodies[pageId + 1] = `<< /Length ${stream.length} >>\nstream\n${stream.toString("latin1")}endstream`;
  });

  // The header's second line holds bytes > 127 so tools treat the file as binary, as the spec recommends.
  const chunks: Buffer[] = [Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1")];
  let offset = chunks[0]?.length ?? 0;
  const offsets: number[] = [];
  for (let id = 1; id < bodies.length; id++) {
    const obj = Buffer.from(`${id} 0 obj\n${bodies[id] ?? "null"}\nendobj\n`, "latin1");
    offsets[id] = offset;
    chunks.push(obj);
    offset += obj.length;
  }
  const size = bodies.length;
  // Each xref entry is exactly 20 bytes: 10-digit offset, space, 5-digit generation, space, n/f, CR LF.
  const xref = [`xref\n0 ${size}\n`, "0000000000 65535 f\r\n"];
  for (let id = 1; id < size; id++) xref.push(`${String(offsets[id] ?? 0).padStart(10, "0")} 00000 n\r\n`);
  xref.push(`trailer\n<< /Size ${size} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${offset}\n%%EOF\n`);
  chunks.push(Buffer.from(xref.join(""), "latin1"));
  return Buffer.concat(chunks);
}

/** Files that claim to be PDFs but are not usable ones; a loader must reject each with an error, never crash. */
export function makeBrokenPdfs(): Record<"empty" | "truncated" | "notPdf" | "garbage", Buffer> {
  const valid = makePdf([["第 1 章 概述", "这是一份会被截断的文档。"]], { title: "Broken" });
  const garbage = Buffer.alloc(2048);
  // A fixed pseudo-random fill keeps the fixture deterministic.
  let seed = 0x2545f491;
  for (let i = 0; i < garbage.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    garbage[i] = seed & 0xff;
  }
  return {
    empty: Buffer.alloc(0),
    // Cut inside the page tree: no page, no xref, no trailer survives.
    truncated: valid.subarray(0, valid.indexOf("2 0 obj") + 20),
    notPdf: Buffer.from("这只是一个改了扩展名的文本文件。\nJust a text file renamed to .pdf.\n", "utf8"),
    garbage: Buffer.concat([Buffer.from("%PDF-1.7\n", "latin1"), garbage, Buffer.from("\nxref\n0 9\nnot an xref table\nstartxref\n999999\n%%EOF\n", "latin1")]),
  };
}
