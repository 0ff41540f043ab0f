import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { constants, deflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDefaultParserPool } from "../../src/ingest/isolated/default-pool.ts";
import { isolatedLoader } from "../../src/ingest/isolated/isolated-loader.ts";
import { ParserLimitError } from "../../src/ingest/isolated/parser-limit-error.ts";
import { ParserPool } from "../../src/ingest/isolated/parser-pool.ts";
import { htmlLoaderInProcess } from "../../src/ingest/loaders/html-loader.ts";
import { markdownLoader } from "../../src/ingest/loaders/markdown-loader.ts";
import { pdfLoaderInProcess } from "../../src/ingest/loaders/pdf-loader.ts";
import { createLoaderRegistry } from "../../src/ingest/loaders/registry.ts";
import { textLoader } from "../../src/ingest/loaders/text-loader.ts";
import { type IngestSummary, runIngest } from "../../src/ingest/run-ingest.ts";
import { HnswFileStore } from "../../src/store/hnsw-file-store.ts";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { LocalHashEmbeddings } from "../../src/providers/local-embeddings.ts";
import { type KnowledgeIndex, readIndex } from "../../src/store/knowledge-index.ts";
import { createTokenizer } from "../../src/text/tokenizer.ts";
import { serveApp } from "../helpers/http-app.ts";
import { makeBrokenPdfs, makePdf } from "../helpers/make-pdf.ts";
import { runTs } from "../helpers/run-cli.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";
import { SAMPLE_ZH_PDF_PATH } from "../helpers/write-fixtures.ts";

/**
 * SECURITY-TESTS item 5 and the hardening item "PDF and HTML parsing isolated": PDF/HTML parsing runs in worker
 * threads with a per-file deadline (PARSE_TIMEOUT_MS) and a heap limit (PARSE_MAX_MEMORY_MB). A parser that hangs or
 * blows up, and any malformed PDF, fails that one file with a message naming it; the rest of the batch is indexed.
 */

// Test hooks turn marker files into a hang or a memory blow-up inside the real PDF path (worker, message passing,
// limits, error mapping), since no pdf.js input reliably does either. A 64 MB heap trips fast. The deadline cannot be
// both short (a hang costs all of it) and safe for real files on a loaded machine (a fresh worker's first Chinese PDF
// took > 2 s at load average 10), so files named "*hang*" go to a pool with a short deadline, everything else to a pool
// with a generous one. Each pool's recovery after a kill is tested on that same pool.
const MEMORY_MB = 64;
const HANG_TIMEOUT_MS = 1500;
const pool = new ParserPool({ timeoutMs: 30_000, maxMemoryMb: MEMORY_MB, testHooks: true });
const hangPool = new ParserPool({ timeoutMs: HANG_TIMEOUT_MS, maxMemoryMb: MEMORY_MB, testHooks: true });
const poolFor = (source: string): ParserPool => (source.includes("hang") ? hangPool : pool);
const loaders = createLoaderRegistry([
  markdownLoader,
  textLoader,
  { ...pdfLoaderInProcess, load: ({ source, data }) => poolFor(source).parse("pdf", source, data) },
  isolatedLoader(htmlLoaderInProcess, "html", () => pool),
]);
const tokenizer = createTokenizer();

const NOTES_MD = "# 发布说明\n\n星河-7 检索服务在 2030 年上线，支持中文和英文文档。\n";
const PAGE_HTML = "<html><head><title>Runbook</title></head><body><h1>Runbook</h1><p>Restart the indexer with the blue-falcon command.</p></body></html>";
const REPORT_PDF = (): Buffer => makePdf([["第 1 章 概述", "琥珀-3 传感器的采样率为 480 赫兹。"]], { title: "传感器报告" });

const workspaces: ReturnType<typeof tempWorkspace>[] = [];

async function ingest(files: Record<string, string | Buffer>): Promise<{ summary: IngestSummary; index: KnowledgeIndex }> {
  const ws = tempWorkspace();
  workspaces.push(ws);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(ws.docsDir, name, ".."), { recursive: true });
    writeFileSync(join(ws.docsDir, name), content);
  }
  return runIngest({
    docsDir: ws.docsDir,
    store: new HnswFileStore(ws.storeDir, { M: 16, efConstruction: 100, efSearch: 64 }),
    embedder: new LocalHashEmbeddings({ dimensions: 256, tokenizer }),
    tokenizer,
    chunker: { chunkSize: 400, chunkOverlap: 80 },
    hnsw: { M: 16, efConstruction: 100, efSearch: 64 },
    loaders,
  });
}

const indexedSources = (index: KnowledgeIndex): string[] => [...new Set(index.chunks.map((c) => c.source))].sort();
const allText = (index: KnowledgeIndex): string => index.chunks.map((c) => c.text).join("\n");
const failure = (summary: IngestSummary, source: string): string | undefined => summary.failed.find((f) => f.source === source)?.error;

// --- Malformed PDFs, built from a valid one so each has exactly one thing wrong -------------------------------

/** The trailer gains a standard-security-handler /Encrypt dictionary whose /U does not match the empty user
 * password: what a password-protected PDF looks like to a reader that has no password. */
function encryptedPdf(): Buffer {
  const enc = `<< /Filter /Standard /V 1 /R 2 /Length 40 /O <${"a".repeat(64)}> /U <${"b".repeat(64)}> /P -3904 >>`;
  const id = "<0123456789abcdef0123456789abcdef>";
  return Buffer.from(REPORT_PDF().toString("latin1").replace("trailer\n<< ", `trailer\n<< /Encrypt ${enc} /ID [${id} ${id}] `), "latin1");
}

/** The xref table and the trailer replaced by garbage; the objects themselves are intact. */
function brokenXrefPdf(): Buffer {
  const pdf = REPORT_PDF().toString("latin1");
  return Buffer.from(`${pdf.slice(0, pdf.lastIndexOf("xref\n"))}xref\n0 9\nthis is not an xref table\nstartxref\n99999\n%%EOF\n`, "latin1");
}

/** Every xref offset off by 7 bytes, trailer intact: a reader must rebuild the table by scanning the file. */
function wrongXrefOffsetsPdf(): Buffer {
  const pdf = REPORT_PDF().toString("latin1");
  return Buffer.from(
    pdf.replace(/(\d{10}) 00000 n/g, (_m, off: string) => `${String(Number(off) + 7).padStart(10, "0")} 00000 n`),
    "latin1",
  );
}

/**
 * A page tree that is a DAG: each of `levels` /Pages nodes lists the next one ten times, so the file claims 10^levels
 * pages. `padding` spaces after the header make it look big enough for its claim. pdf.js walks every claimed page.
 */
function pageTreeBombPdf(levels: number, padding = 0): Buffer {
  const bodies: string[] = [];
  bodies[1] = "<< /Type /Catalog /Pages 2 0 R >>";
  for (let l = 0; l < levels; l++) {
    const id = 2 + l;
    bodies[id] = `<< /Type /Pages /Kids [${Array(10)
      .fill(`${id + 1} 0 R`)
      .join(" ")}] /Count ${10 ** (levels - l)} >>`;
  }
  const page = 2 + levels;
  const content = "BT /F1 12 Tf 20 100 Td (bomb) Tj ET\n";
  bodies[page] = `<< /Type /Page /Parent ${page - 1} 0 R /MediaBox [0 0 200 200] /Contents ${page + 1} 0 R /Resources << /Font << /F1 ${page + 2} 0 R >> >> >>`;
  bodies[page + 1] = `<< /Length ${content.length} >>\nstream\n${content}endstream`;
  bodies[page + 2] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
  let out = `%PDF-1.4\n%${" ".repeat(padding)}\n`;
  const offsets: number[] = [];
  for (let id = 1; id < bodies.length; id++) {
    offsets[id] = out.length;
    out += `${id} 0 obj\n${bodies[id]}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${bodies.length}\n0000000000 65535 f\r\n${offsets
    .slice(1)
    .map((o) => `${String(o).padStart(10, "0")} 00000 n\r\n`)
    .join("")}`;
  out += `trailer\n<< /Size ${bodies.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/**
 * A FlateDecode bomb: a content stream of about 1 MB that inflates to 1 GiB of spaces. Built without compressing
 * 1 GiB: one 1 MiB block is deflated once (a sync flush ends it on a byte boundary) and repeated; pdf.js does not check
 * the zlib checksum. pdf.js inflates into ArrayBuffers, outside the V8 heap that resourceLimits caps.
 */
function flateBombPdf(mib = 1024): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20, 0x20), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const stream = Buffer.concat([Buffer.from([0x78, 0xda]), ...Array<Buffer>(mib).fill(block), Buffer.from([0x03, 0x00, 0, 0, 0, 0])]);
  const parts: Buffer[] = [Buffer.from("%PDF-1.4\n", "latin1")];
  const offsets: number[] = [];
  let length = parts[0]?.length ?? 0;
  const add = (id: number, ...body: Buffer[]): void => {
    offsets[id] = length;
    const obj = Buffer.concat([Buffer.from(`${id} 0 obj\n`), ...body, Buffer.from("\nendobj\n")]);
    parts.push(obj);
    length += obj.length;
  };
  add(1, Buffer.from("<< /Type /Catalog /Pages 2 0 R >>"));
  add(2, Buffer.from("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"));
  add(3, Buffer.from("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>"));
  add(4, Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`), stream, Buffer.from("\nendstream"));
  const xref = offsets
    .slice(1)
    .map((o) => `${String(o).padStart(10, "0")} 00000 n\r\n`)
    .join("");
  parts.push(Buffer.from(`xref\n0 5\n0000000000 65535 f\r\n${xref}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`, "latin1"));
  return Buffer.concat(parts);
}

afterAll(async () => {
  await pool.close();
  await hangPool.close();
  await closeDefaultParserPool();
  for (const ws of workspaces) ws.cleanup();
});

describe("threat: a PDF parser that hangs or blows up takes the whole ingest down", () => {
  it("a parser hang: that file fails with PARSE_TIMEOUT within the limit; the other files of the same ingest are indexed", async () => {
    const started = performance.now();
    const { summary, index } = await ingest({
      "a-notes.md": NOTES_MD,
      "b-hangs.pdf": "%KB-TEST-HANG\n",
      "c-report.pdf": REPORT_PDF(),
      "d-runbook.html": PAGE_HTML,
    });
    const seconds = (performance.now() - started) / 1000;

    expect(summary.failed).toHaveLength(1);
    expect(failure(summary, "b-hangs.pdf")).toMatch(/^b-hangs\.pdf: parsing took longer than 1\.5 s and was stopped \(PARSE_TIMEOUT_MS\) \[PARSE_TIMEOUT\]$/);
    expect(indexedSources(index)).toEqual(["a-notes.md", "c-report.pdf", "d-runbook.html"]);
    // The files after the hang were parsed, Chinese PDF text (CMaps) intact.
    expect(allText(index)).toContain("琥珀-3 传感器的采样率为 480 赫兹。");
    expect(allText(index)).toContain("blue-falcon");
    // Bounded: the deadline plus starting a fresh worker, not "forever".
    expect(seconds).toBeLessThan(HANG_TIMEOUT_MS / 1000 + 10);
  });

  it("a parser memory blow-up: that file fails with PARSE_OUT_OF_MEMORY; the others are indexed; the main process is unharmed", async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const { summary, index } = await ingest({
      "a-notes.md": NOTES_MD,
      "b-explodes.pdf": "%KB-TEST-OOM\n",
      "c-report.pdf": REPORT_PDF(),
    });
    expect(summary.failed).toHaveLength(1);
    expect(failure(summary, "b-explodes.pdf")).toBe(
      "b-explodes.pdf: parsing needed more than 64 MB of memory and was stopped (PARSE_MAX_MEMORY_MB) [PARSE_OUT_OF_MEMORY]",
    );
    // Stopped by the heap limit, well before the deadline would have fired.
    expect(performance.now() - started).toBeLessThan(10_000);
    // Same pool: the PDF after the blow-up was parsed by a fresh worker.
    expect(indexedSources(index)).toEqual(["a-notes.md", "c-report.pdf"]);
    expect(allText(index)).toContain("琥珀-3 传感器");
    // The memory was the worker's: this process's heap did not take the hit.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(48 * 1024 * 1024);
  });

  it("errors carry the limit that tripped (ParserLimitError, PARSE_FAILED/422, exposed), and the pool recovers for the next file", async () => {
    const hang = await hangPool.parse("pdf", "x/hang.pdf", Buffer.from("%KB-TEST-HANG")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hang).toBeInstanceOf(ParserLimitError);
    expect(hang).toMatchObject({ limit: "PARSE_TIMEOUT", code: "PARSE_FAILED", status: 422, expose: true });
    const oom = await pool.parse("pdf", "x/oom.pdf", Buffer.from("%KB-TEST-OOM")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(oom).toMatchObject({ limit: "PARSE_OUT_OF_MEMORY", code: "PARSE_FAILED", status: 422 });
    // Each pool carries on with a fresh worker (HTML: cheap enough for the short deadline on a loaded machine).
    expect((await hangPool.parse("html", "x/ok.html", Buffer.from(PAGE_HTML))).title).toBe("Runbook");
    expect((await pool.parse("pdf", "x/ok.pdf", REPORT_PDF())).title).toBe("传感器报告");
  });

  it("a real pathological PDF — a page tree repeating its own kids, 10^9 pages in 2 KB — is refused before any page is read, with a clear message", async () => {
    const bomb = pageTreeBombPdf(9);
    expect(bomb.length).toBeLessThan(2500);
    const { summary, index } = await ingest({ "bomb.pdf": bomb, "notes.md": NOTES_MD });
    // This message (not PARSE_TIMEOUT) shows it was refused from the page count, before pdf.js walked any page.
    expect(failure(summary, "bomb.pdf")).toMatch(/^bomb\.pdf: huge page count: the page tree claims 1,000,000,000 pages in a [\d,]+-byte file/);
    expect(indexedSources(index)).toEqual(["notes.md"]);
  });

  it("the same page tree padded to look plausible (10^5 pages in 400 KB) is stopped by a limit instead of running unbounded", async () => {
    const started = performance.now();
    const err = await hangPool.parse("pdf", "padded-bomb.pdf", pageTreeBombPdf(5, 400_000)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ParserLimitError);
    expect(["PARSE_TIMEOUT", "PARSE_OUT_OF_MEMORY"]).toContain((err as ParserLimitError).limit);
    expect(performance.now() - started).toBeLessThan(HANG_TIMEOUT_MS + 5000);
  });

  it("a FlateDecode bomb (1 MB inflating to 1 GiB, outside the V8 heap) is stopped by the RSS watchdog with PARSE_OUT_OF_MEMORY", async () => {
    const bomb = flateBombPdf();
    expect(bomb.length).toBeLessThan(1.5 * 1024 * 1024);
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    const err = await pool
      .parse("pdf", "flate-bomb.pdf", bomb)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => clearInterval(sampler));
    expect(err).toMatchObject({ limit: "PARSE_OUT_OF_MEMORY", message: expect.stringMatching(/^flate-bomb\.pdf: parsing needed more than 64 MB/) });
    // The heap limit alone let this reach ~2 GB of RSS; the watchdog's budget is 2 × 64 MB (plus one sampling interval).
    expect(peak - rssBefore).toBeLessThan(512 * 1024 * 1024);
  });
});

describe("threat: malformed PDFs in a batch", () => {
  it("0 bytes, truncated, text or HTML renamed .pdf, bad xref over a damaged body, encrypted: each fails with a clear message naming it; the rest is ingested", async () => {
    const zh = readFileSync(SAMPLE_ZH_PDF_PATH);
    const { summary, index } = await ingest({
      "bad/empty.pdf": Buffer.alloc(0),
      "bad/truncated.pdf": zh.subarray(0, zh.length >> 1),
      "bad/text-renamed.pdf": "这只是一个改了扩展名的文本文件。\nJust text.\n",
      "bad/html-renamed.pdf": "<html><body>not a pdf</body></html>",
      "bad/bad-xref-over-garbage.pdf": makeBrokenPdfs().garbage,
      "bad/encrypted.pdf": encryptedPdf(),
      "good/notes.md": NOTES_MD,
      "good/runbook.html": PAGE_HTML,
      "good/sample-zh.pdf": zh,
    });
    const messages = Object.fromEntries(summary.failed.map((f) => [f.source, f.error]));
    expect(messages).toEqual({
      "bad/empty.pdf": "bad/empty.pdf: empty file (0 bytes)",
      "bad/truncated.pdf": "bad/truncated.pdf: truncated or corrupt PDF (Invalid PDF structure.)",
      "bad/text-renamed.pdf": 'bad/text-renamed.pdf: not a PDF: no %PDF- header, it starts with "这只是一个改了扩展名的文本文件。"',
      "bad/html-renamed.pdf": 'bad/html-renamed.pdf: not a PDF: no %PDF- header, it starts with "<html><body>not a pdf</b"',
      "bad/bad-xref-over-garbage.pdf": "bad/bad-xref-over-garbage.pdf: truncated or corrupt PDF (Invalid PDF structure.)",
      "bad/encrypted.pdf": "bad/encrypted.pdf: encrypted PDF: remove the password and upload again",
    });
    expect(indexedSources(index)).toEqual(["good/notes.md", "good/runbook.html", "good/sample-zh.pdf"]);
    // The Chinese PDF went through the worker with its CMaps: its text is there.
    expect(allText(index)).toContain("鸢尾花数据集包含 150 个样本，分为 3 个类别");
    expect(summary.files).toBe(3);
  });

  it("a bad xref over intact objects is not malformed enough to lose: pdf.js rebuilds the table by scanning, and the file is indexed", async () => {
    const { summary, index } = await ingest({ "shifted-xref.pdf": wrongXrefOffsetsPdf(), "garbage-xref-no-trailer.pdf": brokenXrefPdf() });
    expect(summary.failed).toEqual([]);
    expect(
      index.chunks
        .filter((c) => c.text.includes("琥珀-3 传感器的采样率为 480 赫兹。"))
        .map((c) => c.source)
        .sort(),
    ).toEqual(["garbage-xref-no-trailer.pdf", "shifted-xref.pdf"]);
  });
});

describe("threat: malformed PDFs uploaded over HTTP", () => {
  const TOKEN = "parser-isolation-token-7Qx";
  const ws = tempWorkspace(FIXTURE_CORPUS);
  workspaces.push(ws);
  let kb: KnowledgeBase;
  let http: Awaited<ReturnType<typeof serveApp>>;

  beforeAll(async () => {
    kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
    http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN }), kb);
  });
  afterAll(async () => {
    const running = http?.jobs.running;
    if (running) await http.jobs.wait(running.id);
    await http?.close();
  });

  const upload = (filename: string, content: string | Buffer) => {
    const boundary = `----kbtest${randomUUID()}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/pdf\r\n\r\n`),
      Buffer.from(content),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return fetch(`${http.url}/documents`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    });
  };

  it("content that is not a PDF (text, HTML, 0 bytes) renamed .pdf is refused at upload with 422 PARSE_FAILED", async () => {
    for (const [name, content] of [
      ["renamed-text.pdf", "Just a text file.\n"],
      ["renamed-page.pdf", "<!doctype html><html><body>hi</body></html>"],
      ["empty.pdf", ""],
    ] as const) {
      const res = await upload(name, content);
      expect(res.status).toBe(422);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("PARSE_FAILED");
      expect(body.error.message).toContain(name);
    }
  });

  it("a structurally corrupt %PDF- upload is accepted (202); the rebuild job lists it as failed with its message; the rest stays indexed", async () => {
    const zh = readFileSync(SAMPLE_ZH_PDF_PATH);
    const res = await upload("half-a-book.pdf", zh.subarray(0, zh.length >> 1));
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const job = await http.jobs.wait(jobId);
    expect(job?.state).toBe("succeeded");
    expect(job?.summary?.failed).toContainEqual({
      source: "uploads/half-a-book.pdf",
      error: "uploads/half-a-book.pdf: truncated or corrupt PDF (Invalid PDF structure.)",
    });
    // The rest of the corpus is still indexed and searchable.
    const sources = kb.listDocuments().map((d) => d.source);
    expect(sources).toEqual(expect.arrayContaining(["models.md", "page.html"]));
    expect(sources).not.toContain("uploads/half-a-book.pdf");
  });
});

describe("worker lifecycle", () => {
  it("close() terminates every worker, and a closed pool starts a fresh one when used again", async () => {
    const own = new ParserPool({ timeoutMs: 10_000, maxMemoryMb: 128 });
    await own.parse("html", "a.html", Buffer.from(PAGE_HTML));
    expect(own.workerCount).toBe(1);
    await own.close();
    expect(own.workerCount).toBe(0);
    const doc = await own.parse("html", "b.html", Buffer.from(PAGE_HTML));
    expect(doc.title).toBe("Runbook");
    await own.close();
    expect(own.workerCount).toBe(0);
  });

  it("the CLI (under tsx): malformed PDFs are named lines in the summary, Chinese parses in the worker, and the idle worker does not keep the process alive", async () => {
    const ws = tempWorkspace();
    workspaces.push(ws);
    const zh = readFileSync(SAMPLE_ZH_PDF_PATH);
    for (const [name, content] of [
      ["good/sample-zh.pdf", zh],
      ["good/notes.md", NOTES_MD],
      ["bad/encrypted.pdf", encryptedPdf()],
      ["bad/truncated.pdf", zh.subarray(0, zh.length >> 1)],
    ] as const) {
      mkdirSync(join(ws.docsDir, name, ".."), { recursive: true });
      writeFileSync(join(ws.docsDir, name), content);
    }
    const started = performance.now();
    // The CLI never closes the parser pool: the process must end by itself.
    const run = await runTs("src/cli/main.ts", ["ingest"], { DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir, PARSE_TIMEOUT_MS: "20000" });
    // Under the 30 s idle timeout: the process ended because nothing held it, not because the worker retired.
    expect(performance.now() - started).toBeLessThan(25_000);
    expect(run.code, run.stderr).toBe(2); // partial success: published, but some files need attention
    expect(run.stdout).toMatch(/Full build: 2 files \(added 2,/);
    expect(run.stdout).toContain("FAILED bad/encrypted.pdf: bad/encrypted.pdf: encrypted PDF: remove the password and upload again");
    expect(run.stdout).toContain("FAILED bad/truncated.pdf: bad/truncated.pdf: truncated or corrupt PDF (Invalid PDF structure.)");
    const index = readIndex(ws.storeDir, { efSearch: 64 });
    expect(allText(index)).toContain("鸢尾花数据集包含 150 个样本，分为 3 个类别");
  });
});
