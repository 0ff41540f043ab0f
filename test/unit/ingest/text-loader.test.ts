import { describe, expect, it } from "vitest";
import { textLoader } from "../../../src/ingest/loaders/text-loader.ts";

describe("textLoader", () => {
  it("strips a UTF-8 BOM, normalises line ends and whitespace, titles from the file name", async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("第一行。\r\n\r\n\r\n\r\n第二行   \r\nＡＢＣ\u0000", "utf8")]);
    const doc = await textLoader.load({ source: "notes/读书笔记.txt", data });
    expect(doc).toEqual({ title: "读书笔记", format: "text", sections: [{ text: "第一行。\n\n第二行\nABC", headings: [] }] });
    expect(doc.sections[0]?.text.charCodeAt(0)).not.toBe(0xfeff);
  });

  it("gives no sections for an empty or blank file", async () => {
    expect((await textLoader.load({ source: "a.txt", data: Buffer.alloc(0) })).sections).toEqual([]);
    expect((await textLoader.load({ source: "a.txt", data: Buffer.from("\uFEFF \n\t\n") })).sections).toEqual([]);
  });

  it("does not throw on invalid UTF-8", async () => {
    const doc = await textLoader.load({ source: "bad.txt", data: Buffer.from([0x61, 0xff, 0xfe, 0x62]) });
    expect(doc.sections[0]?.text).toBe("ab");
  });
});
