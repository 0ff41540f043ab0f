import { describe, expect, it } from "vitest";
import { IndexMismatchError } from "../../../src/errors/app-error.ts";
import { checkEmbedder, checkSchema, chunkerDrift, type Manifest, SCHEMA_VERSION, TOKENIZER_VERSION } from "../../../src/store/manifest.ts";

const manifest: Manifest = {
  schemaVersion: SCHEMA_VERSION,
  buildId: "b",
  builtAt: "2026-11-22T00:00:00.000Z",
  embeddings: { id: "local:hash-tfidf-v1:1024:abc", provider: "local", model: "hash-tfidf-v1", dimensions: 1024 },
  chunker: { chunkSize: 400, chunkOverlap: 80, version: 1 },
  tokenizer: { version: TOKENIZER_VERSION },
  hnsw: { M: 16, efConstruction: 200, space: "cosine" },
  counts: { documents: 1, chunks: 1 },
  files: {},
  checksums: {},
};

describe("manifest checks", () => {
  it("accepts the same embedder, with or without a known dimension", () => {
    expect(() => checkEmbedder(manifest, { provider: "local", model: "hash-tfidf-v1", dimensions: 1024 })).not.toThrow();
    expect(() => checkEmbedder(manifest, { provider: "local", model: "hash-tfidf-v1" })).not.toThrow();
  });

  it.each([
    [{ provider: "zhipu", model: "embedding-3", dimensions: 2048 }, /provider local → zhipu.*model hash-tfidf-v1 → embedding-3.*dimensions 1024 → 2048/],
    [{ provider: "local", model: "hash-tfidf-v1", dimensions: 512 }, /dimensions 1024 → 512/],
  ])("refuses a different embedder %#, saying what to run", (expected, message) => {
    expect(() => checkEmbedder(manifest, expected)).toThrow(IndexMismatchError);
    expect(() => checkEmbedder(manifest, expected)).toThrow(message);
    expect(() => checkEmbedder(manifest, expected)).toThrow(/npm run ingest -- --full/);
  });

  it("refuses another schema or tokenizer version", () => {
    expect(() => checkSchema({ ...manifest, schemaVersion: 99 })).toThrow(/schema 99.*npm run ingest -- --full/);
    expect(() => checkSchema({ ...manifest, tokenizer: { version: 0 } })).toThrow(IndexMismatchError);
    expect(() => checkSchema(manifest)).not.toThrow();
  });

  it("reports chunker drift as a rebuild hint, not an error", () => {
    expect(chunkerDrift(manifest, { chunkSize: 400, chunkOverlap: 80, version: 1 })).toBeUndefined();
    expect(chunkerDrift(manifest, { chunkSize: 600, chunkOverlap: 80, version: 1 })).toMatch(/400\/overlap 80.*600\/80.*--full/);
  });
});
