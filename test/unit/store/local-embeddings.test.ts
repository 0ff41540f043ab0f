import { describe, expect, it } from "vitest";
import { LocalHashEmbeddings } from "../../../src/providers/local-embeddings.ts";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

describe("LocalHashEmbeddings", () => {
  const corpus = ["LLaMA 2 的上下文长度是 4096。", "ChatGLM 具有 62 亿参数。", "Vicuna was trained on ShareGPT conversations."];

  it("is deterministic, unit-length and of the configured dimension", async () => {
    const a = new LocalHashEmbeddings({ dimensions: 256 });
    a.fit(corpus);
    const b = new LocalHashEmbeddings({ dimensions: 256 });
    b.importState(a.exportState());
    const [va] = await a.embedDocuments([corpus[0]!]);
    const [vb] = await b.embedDocuments([corpus[0]!]);
    expect(Array.from(va!)).toEqual(Array.from(vb!));
    expect(va!.length).toBe(256);
    expect(dot(va!, va!)).toBeCloseTo(1, 5);
    expect(a.id).toBe(b.id);
    expect(a.id).toMatch(/^local:hash-tfidf-v1:256:[0-9a-f]{12}$/);
  });

  it("scores the passage sharing the query's words highest", async () => {
    const e = new LocalHashEmbeddings({ dimensions: 512 });
    e.fit(corpus);
    const docs = await e.embedDocuments(corpus);
    const q = await e.embedQuery("ChatGLM 的参数量");
    const sims = docs.map((d) => dot(q, d));
    expect(sims.indexOf(Math.max(...sims))).toBe(1);
  });

  it("the fitted IDF is part of its identity", () => {
    const a = new LocalHashEmbeddings();
    a.fit(corpus);
    const b = new LocalHashEmbeddings();
    b.fit(corpus.slice(1));
    expect(a.id).not.toBe(b.id);
  });

  it("refuses foreign state", () => {
    expect(() => new LocalHashEmbeddings().importState({ version: 99 })).toThrow(/another version/);
  });

  it("embeds an empty text as a zero vector without NaN", async () => {
    const [v] = await new LocalHashEmbeddings({ dimensions: 64 }).embedDocuments([""]);
    expect(v!.every((x) => x === 0)).toBe(true);
  });
});
