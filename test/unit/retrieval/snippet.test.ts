import { describe, expect, it } from "vitest";
import { makeSnippet } from "../../../src/retrieval/snippet.ts";

describe("makeSnippet", () => {
  it("returns short text whole, whitespace folded", () => {
    expect(makeSnippet("a  b\n\nc", ["b"])).toBe("a b c");
  });

  it("centres a long text on the densest run of query terms and marks cuts", () => {
    const text = `${"无关内容。".repeat(100)}LLaMA 2 的上下文长度是 4096。${"其他内容。".repeat(100)}`;
    const s = makeSnippet(text, ["llama", "上下文", "4096"], 120);
    expect(s).toContain("4096");
    expect(s.startsWith("…")).toBe(true);
    expect(s.endsWith("…")).toBe(true);
    expect(s.length).toBeLessThanOrEqual(122);
  });

  it("falls back to the start when no term occurs", () => {
    const s = makeSnippet("开头".repeat(200), ["缺席"], 50);
    expect(s.startsWith("开头")).toBe(true);
  });
});
