import { describe, expect, it } from "vitest";
import type { ParsedDocument } from "../../../src/ingest/document.ts";
import { htmlLoader } from "../../../src/ingest/loaders/html-loader.ts";

function load(html: string, source = "site/page.html"): Promise<ParsedDocument> {
  return htmlLoader.load({ source, data: Buffer.from(html, "utf8") });
}
const allText = (doc: ParsedDocument): string => doc.sections.map((s) => s.text).join("\n\n");

describe("htmlLoader", () => {
  it("takes the title from <title>, else the first heading, else the file name", async () => {
    expect((await load("<html><head><title> 检索增强 &amp; 生成 </title></head><body><h1>H</h1><p>x</p></body></html>")).title).toBe("检索增强 & 生成");
    expect((await load("<body><h2>First heading</h2><p>x</p></body>")).title).toBe("First heading");
    expect((await load("<p>no headings</p>", "a/b/plain-page.htm")).title).toBe("plain-page");
    expect(htmlLoader.extensions).toEqual([".html", ".htm"]);
  });

  it("turns h1–h6 into heading paths, going back up", async () => {
    const doc = await load(
      "<h1>综述</h1><p>引言。</p><h2>预训练</h2><p>数据。</p><h3>数据清洗</h3><p>去重。</p><h2>微调</h2><p>指令。</p><h6>Deep</h6><p>six</p>",
    );
    expect(doc.format).toBe("html");
    expect(doc.sections).toEqual([
      { text: "引言。", headings: ["综述"] },
      { text: "数据。", headings: ["综述", "预训练"] },
      { text: "去重。", headings: ["综述", "预训练", "数据清洗"] },
      { text: "指令。", headings: ["综述", "微调"] },
      { text: "six", headings: ["综述", "微调", "Deep"] },
    ]);
  });

  it("drops script, style, noscript and head content and images", async () => {
    const doc = await load(
      '<html><head><style>body{}</style><script>var secret = 1;</script></head><body><p>可见<img src="a.png" alt="ALT">文本</p><script type="module">import x from "y"</script><noscript>enable js</noscript></body></html>',
    );
    expect(allText(doc)).toBe("可见文本");
  });

  it("renders tables as one row per line with header labels, repeating rowspan cells", async () => {
    const doc = await load(
      '<h2>模型</h2><table><thead><tr><th>名称</th><th>参数</th></tr></thead><tbody><tr><td rowspan="2">GLM</td><td>6B</td></tr><tr><td>130B</td></tr></tbody></table>',
    );
    expect(doc.sections).toEqual([{ text: "GLM | 参数: 6B\nGLM | 参数: 130B", headings: ["模型"] }]);
  });

  it("decodes entities exactly once and keeps text that looks like markup", async () => {
    const doc = await load("<p>AT&amp;T uses &lt;div&gt; tags; write &amp;lt; for &lt;. &copy; 2024 &#x4E2D;&#25991; &nbsp;x</p>");
    expect(allText(doc)).toBe("AT&T uses <div> tags; write &lt; for <. © 2024 中文 x");
  });

  it("keeps Markdown-looking characters in HTML text as they are", async () => {
    const doc = await load("<p>Call __init__ and use a*b*c or [x](y).</p>");
    expect(allText(doc)).toBe("Call __init__ and use a*b*c or [x](y).");
  });

  it("keeps <pre> blocks as code fences, so a `#` line in them is not a heading", async () => {
    const doc = await load("<h1>Code</h1><pre>def f():\n    # comment\n    return 1</pre>");
    // Indentation is not preserved: the whitespace collapse runs over <pre> text too.
    expect(doc.sections).toEqual([{ text: "```\ndef f():\n# comment\nreturn 1\n```", headings: ["Code"] }]);
  });

  it("survives deeply nested markup without crashing", async () => {
    // 20,000 levels: well past the depth where unbounded recursion overflows the stack (about 10,000 frames).
    const n = 20_000;
    const deep = `${"<div>".repeat(n)}深处${"</div>".repeat(n)}`;
    for (const html of [
      `<title>T</title><h1>H</h1><p>浅处文本。</p>${deep}`,
      `<table><tr><td>${deep}</td></tr></table><p>after</p>`,
      `<pre>${deep}</pre><p>after</p>`,
      `<h2>${deep}</h2><p>after</p>`,
      `${"<span>".repeat(n)}<title>deep title</title>`,
    ]) {
      const doc = await load(html);
      expect(typeof doc.title).toBe("string");
      expect(Array.isArray(doc.sections)).toBe(true);
    }
    const doc = await load(`<title>T</title><p>浅处文本。</p>${deep}`);
    expect(allText(doc)).toContain("浅处文本。");
  });

  it("keeps text of moderately nested markup", async () => {
    const doc = await load(`${"<div><section>".repeat(60)}<p>nested text</p>${"</section></div>".repeat(60)}`);
    expect(allText(doc)).toBe("nested text");
  });
});
