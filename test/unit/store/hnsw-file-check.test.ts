import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkHnswFile, HnswIndex } from "../../../src/store/hnsw-index.ts";

/**
 * checkHnswFile stands between hnswlib (which trusts the header of the file it reads, and whose writer ignores write
 * errors) and a damaged or short hnsw.bin: every cut-off file is refused, and so is a graph of other dimensions.
 */
describe("checkHnswFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "kb-hnsw-"));
  const file = join(dir, "hnsw.bin");
  const settings = { M: 16, efConstruction: 100, efSearch: 64 };
  const index = HnswIndex.create(32, 4, settings);
  for (let i = 0; i < 40; i++)
    index.add(
      Array.from({ length: 32 }, (_, d) => Math.sin(i * 7 + d)),
      i,
    );
  index.write(file);
  const bytes = readFileSync(file);
  const cut = join(dir, "cut.bin");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts the file hnswlib wrote, and it reads back", () => {
    expect(checkHnswFile(file, 32, 40)).toBeUndefined();
    expect(HnswIndex.read(file, 32, settings).count).toBe(40);
  });

  it("refuses every truncation (each header field boundary, then every 97th byte) without handing it to hnswlib", () => {
    const lengths = [0, 1, 8, 16, 24, 48, 52, 95, 96, 97];
    for (let n = 100; n < bytes.length; n += 97) lengths.push(n);
    lengths.push(bytes.length - 4, bytes.length - 1);
    for (const n of lengths) {
      writeFileSync(cut, bytes.subarray(0, n));
      expect(checkHnswFile(cut, 32), `${n} of ${bytes.length} bytes`).toMatch(/shorter than its header|truncated/);
      expect(() => HnswIndex.read(cut, 32, settings)).toThrow(/^hnsw\.bin /);
    }
  });

  it("refuses a graph of other dimensions, a wrong count, trailing bytes and a damaged header", () => {
    expect(checkHnswFile(file, 64)).toMatch(/layout of a 64-dimensional/);
    expect(checkHnswFile(file, 32, 41)).toMatch(/holds 40 vectors, expected 41/);
    writeFileSync(cut, Buffer.concat([bytes, Buffer.from([0, 0, 0, 0])]));
    expect(checkHnswFile(cut, 32)).toMatch(/unexpected bytes/);
    const entry = Buffer.from(bytes);
    entry.writeUInt32LE(1000, 52); // entry point outside the graph: hnswlib would read out of bounds at the first search
    writeFileSync(cut, entry);
    expect(checkHnswFile(cut, 32)).toMatch(/entry point/);
    const capacity = Buffer.from(bytes);
    capacity.writeBigUInt64LE(1n << 40n, 8); // a capacity of 2^40 elements: a huge allocation on load
    writeFileSync(cut, capacity);
    expect(checkHnswFile(cut, 32)).toMatch(/implausible element count/);
  });
});
