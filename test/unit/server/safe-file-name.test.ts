import { describe, expect, it } from "vitest";
import { MAX_NAME_CHARS, numberedName, safeFileName } from "../../../server/upload/safe-file-name.ts";

const stored = (raw: string) => numberedName(safeFileName(raw), 1);

describe("safeFileName", () => {
  const cases: [string, string][] = [
    ["notes.md", "notes.md"],
    ["模型速览.md", "模型速览.md"],
    ["../x.md", "x.md"],
    ["..\\x.md", "x.md"],
    ["/abs/x.md", "x.md"],
    ["C:\\x.md", "x.md"],
    ["....//x.md", "x.md"],
    ["．．／x.md", "x.md"], // full-width dots and slash become ../ under NFKC, then are removed
    ["%2e%2e%2fx.md", "%2e%2e%2fx.md"], // never URL-decoded: a literal, harmless name
    ["x\u0000.md", "x.md"],
    ["evil\u202Edm.exe.md", "evildm.exe.md"],
    ["a\u0007b\u007f.md", "ab.md"],
    [".hidden.md", "hidden.md"],
    ["a..b.md", "a.b.md"],
    ['a<b>c:d"e|f?g*.md', "a_b_c_d_e_f_g_.md"],
    ["CON.md", "_CON.md"],
    ["  spaced   name .MD", "spaced name.md"],
    ["..", "upload"],
    ["", "upload"],
    [".md", "md"],
  ];
  for (const [raw, want] of cases) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(want)}`, () => expect(stored(raw)).toBe(want));
  }

  it("caps long names in characters and in UTF-8 bytes, keeping the extension", () => {
    const latin = stored(`${"a".repeat(1000)}.md`);
    expect(latin.length).toBeLessThanOrEqual(MAX_NAME_CHARS);
    expect(latin.endsWith(".md")).toBe(true);
    const cjk = stored(`${"长".repeat(1000)}.md`);
    expect(Buffer.byteLength(cjk)).toBeLessThanOrEqual(200);
    expect(cjk).toMatch(/^长+\.md$/);
  });

  it("never cuts a surrogate pair in half", () => {
    const name = stored(`${"😀".repeat(200)}.txt`);
    expect(Buffer.from(name, "utf8").toString("utf8")).toBe(name); // a lone surrogate would come back as U+FFFD
  });

  it("numbers taken names before the extension", () => {
    expect(numberedName({ stem: "x", ext: ".md" }, 2)).toBe("x (2).md");
  });
});
