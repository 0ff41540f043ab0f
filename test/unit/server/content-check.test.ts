import { describe, expect, it } from "vitest";
import { contentCheckFor } from "../../../server/upload/content-check.ts";

const verdict = (ext: string, ...chunks: (string | number[])[]) => {
  const check = contentCheckFor(ext);
  for (const c of chunks) check.push(Buffer.from(c as string));
  return check.finish();
};

describe("contentCheckFor", () => {
  it("accepts a PDF magic split across chunks and refuses HTML, SVG and empty files named .pdf", () => {
    expect(verdict(".pdf", "%P", "DF-1.7\n...")).toBeUndefined();
    expect(verdict(".pdf", "<html><script>alert(1)</script>")).toMatch(/not a PDF/);
    expect(verdict(".pdf", "<svg onload=alert(1)>")).toMatch(/not a PDF/);
    expect(verdict(".pdf", "%PD")).toMatch(/not a PDF/);
    expect(verdict(".pdf")).toMatch(/empty/);
  });

  it("accepts UTF-8 text, also with a character split across chunks", () => {
    const bytes = [...Buffer.from("中文")];
    expect(verdict(".md", bytes.slice(0, 2), bytes.slice(2))).toBeUndefined();
  });

  it("refuses NUL bytes, invalid UTF-8, a truncated character and empty files", () => {
    expect(verdict(".txt", [0x61, 0x00, 0x62])).toMatch(/NUL/);
    expect(verdict(".html", [0x63, 0xe9, 0x20])).toMatch(/UTF-8/);
    expect(verdict(".md", [0xe4, 0xb8])).toMatch(/UTF-8/);
    expect(verdict(".md")).toMatch(/empty/);
  });
});
