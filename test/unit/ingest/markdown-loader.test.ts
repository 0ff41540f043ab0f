import { describe, expect, it } from "vitest";
import type { ParsedDocument } from "../../../src/ingest/document.ts";
import { markdownLoader } from "../../../src/ingest/loaders/markdown-loader.ts";

function load(markdown: string, source = "notes/guide.md"): Promise<ParsedDocument> {
  return markdownLoader.load({ source, data: Buffer.from(markdown, "utf8") });
}
const allText = (doc: ParsedDocument): string => doc.sections.map((s) => s.text).join("\n\n");

describe("markdownLoader: title", () => {
  it("takes the title from YAML front matter and does not index the front matter", async () => {
    const doc = await load("---\ntitle: 大语言模型综述\ntags: [llm, survey]\n---\n\n# 第一章\n\n正文内容。");
    expect(doc.title).toBe("大语言模型综述");
    expect(doc.format).toBe("markdown");
    expect(allText(doc)).not.toContain("tags");
    expect(doc.sections).toEqual([{ text: "正文内容。", headings: ["第一章"] }]);
  });

  it("reads front matter after a BOM and with CRLF line ends", async () => {
    const doc = await load("\uFEFF---\r\ntitle: CRLF title\r\n---\r\nBody text.\r\n");
    expect(doc.title).toBe("CRLF title");
    expect(doc.sections).toEqual([{ text: "Body text.", headings: [] }]);
  });

  it("keeps the document when the front matter is broken YAML, falling back to the H1", async () => {
    const doc = await load("---\ntitle: [unclosed\n  bad: : yaml\n---\n# Real Title\n\nThe body survives.");
    expect(doc.title).toBe("Real Title");
    expect(allText(doc)).toContain("The body survives.");
  });

  it("keeps the document when the front matter is never closed", async () => {
    const doc = await load("---\ntitle: Never closed\n\n# Heading\n\nStill here.");
    expect(doc.title).toBe("Heading");
    expect(allText(doc)).toContain("Still here.");
  });

  it("ignores a front matter title that is not text", async () => {
    const doc = await load("---\ntitle:\n  nested: true\n---\n# From H1\n\nx");
    expect(doc.title).toBe("From H1");
  });

  it("falls back to the first H1, cleaned of link and emphasis syntax", async () => {
    const doc = await load("Intro line.\n\n# [**LLaMA**](https://example.com) 技术报告\n\nText.");
    expect(doc.title).toBe("LLaMA 技术报告");
  });

  it("does not take a `# comment` inside a code fence as the title", async () => {
    const doc = await load("Install it:\n\n```bash\n# install dependencies\nnpm ci\n```\n\n## Usage\n\nRun it.");
    expect(doc.title).toBe("Install it:");
  });

  it("falls back to the first line, then the file name", async () => {
    expect((await load("Just a short first line\n\nand more.")).title).toBe("Just a short first line");
    expect((await load("", "dir/empty-notes.md")).title).toBe("empty-notes");
    expect((await load(`${"长".repeat(150)}\n`, "dir/long.md")).title).toBe("long");
  });
});

describe("markdownLoader: sections and heading paths", () => {
  it("tracks the heading path for every section, through nesting and back up", async () => {
    const doc = await load(["前言。", "# A", "a", "## B", "b", "### C", "c", "## D", "d", "#### E", "e", "# F", "f", "### G", "g"].join("\n\n"));
    expect(doc.sections).toEqual([
      { text: "前言。", headings: [] },
      { text: "a", headings: ["A"] },
      { text: "b", headings: ["A", "B"] },
      { text: "c", headings: ["A", "B", "C"] },
      { text: "d", headings: ["A", "D"] },
      { text: "e", headings: ["A", "D", "E"] },
      { text: "f", headings: ["F"] },
      { text: "g", headings: ["F", "G"] },
    ]);
  });

  it("accepts closing hashes and up to three spaces of indent; `#tag` without a space is not a heading", async () => {
    const doc = await load("   ## Closed ##\n\ntext\n\n#hashtag stays text");
    expect(doc.sections).toEqual([{ text: "text\n\n#hashtag stays text", headings: ["Closed"] }]);
  });

  it("does not emit empty sections for headings without text", async () => {
    const doc = await load("# A\n\n## B\n\n## C\n\nonly c");
    expect(doc.sections).toEqual([{ text: "only c", headings: ["A", "C"] }]);
  });
});

describe("markdownLoader: prose cleaning", () => {
  it("removes image links and keeps link text", async () => {
    const doc = await load(
      '见图 ![架构图](img/arch.png "Arch") 与 ![ref][fig1]。详见 [论文](https://arxiv.org/abs/2303.18223 "LLM Survey") 和 [wiki](https://x.org/a_(b)).',
    );
    const text = allText(doc);
    expect(text).toContain("详见 论文 和 wiki.");
    expect(text).not.toMatch(/arch\.png|arxiv|架构图|\]\(|!\[/);
  });

  it("strips HTML tags, drops <script>/<style> content and comments, decodes entities", async () => {
    const doc = await load(
      '<div class="note">注意 <b>加粗</b><br>换行</div>\n<script>\nalert("x");\n</script>\n<style>p { color: red }</style>\n<!-- hidden -->\nAT&amp;T &lt;tag&gt;',
    );
    const text = allText(doc);
    expect(text).toContain("注意 加粗\n换行");
    expect(text).toContain("AT&T <tag>");
    expect(text).not.toMatch(/alert|color|hidden|<div|<b>/);
  });

  it("keeps HTML tables as readable rows, repeating rowspan cells", async () => {
    const doc = await load(
      [
        "## 模型",
        "<table>",
        "  <tr><th>模型</th><th>参数量</th><th>机构</th></tr>",
        '  <tr><td rowspan="2">LLaMA</td><td>7B</td><td rowspan="2">Meta</td></tr>',
        "  <tr><td>13B</td></tr>",
        '  <tr><td colspan="2">GLM-130B</td><td>清华</td></tr>',
        "</table>",
      ].join("\n"),
    );
    expect(doc.sections).toEqual([
      { text: "LLaMA | 参数量: 7B | 机构: Meta\nLLaMA | 参数量: 13B | 机构: Meta\nGLM-130B | 参数量: GLM-130B | 机构: 清华", headings: ["模型"] },
    ]);
  });

  it("keeps code fences verbatim, and a `#` line inside a fence is not a heading", async () => {
    const code = "```python\n# not a heading\ndef f(x):\n    return x * 2  # *not* emphasis, [not](a link)\n```";
    const doc = await load(`# Code\n\nBefore **bold**.\n\n${code}\n\n~~~\n## also not a heading\n~~~\n\nAfter.`);
    expect(doc.sections).toHaveLength(1);
    expect(doc.sections[0]?.headings).toEqual(["Code"]);
    expect(doc.sections[0]?.text).toBe(`Before bold.\n\n${code}\n\n~~~\n## also not a heading\n~~~\n\nAfter.`);
  });

  it("does not close a fence on a shorter or different fence", async () => {
    const doc = await load("````\n```\n# inside\n```\n````\n# Out\n\ntext");
    expect(doc.sections.map((s) => s.headings)).toEqual([[], ["Out"]]);
    expect(doc.sections[0]?.text).toContain("# inside");
  });

  it("normalises full-width Latin but keeps Chinese punctuation", async () => {
    const doc = await load("ＧＰＴ－４ 的表现：很好！");
    expect(allText(doc)).toBe("GPT-4 的表现：很好！");
  });
});
