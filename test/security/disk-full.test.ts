/**
 * SECURITY-TESTS 18: the disk fills up during an index write or an upload. The write fails with a clear error
 * (507 DISK_FULL, a message about disk space), the published index stays CURRENT and answers exactly as before,
 * nothing this write started is left behind (temp folders, pointer temp files, partial uploads, the rebuild lock),
 * and the next rebuild succeeds once there is space again.
 *
 * The failure is injected: `node:fs` / `node:fs/promises` are partially mocked to fail writes to matching paths with
 * ENOSPC, after writing half the data (what a full disk does). hnswlib writes hnsw.bin natively, out of reach of the
 * mock, and ignores write errors: its write is replaced by one that leaves a short file, as a full disk would. A last
 * test fills a real tmpfs instead, where mounting is permitted (root in a container), and skips with a note otherwise.
 */
import { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isAppError } from "../../src/errors/app-error.ts";
import { LOCK_FILE } from "../../src/ingest/rebuild-lock.ts";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { HnswIndex } from "../../src/store/hnsw-index.ts";
import { serveApp } from "../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/** While `pattern` is set, writes to matching paths fail with ENOSPC; `noSpace` makes statfs report a full disk. */
const fault = vi.hoisted(() => {
  const state = {
    pattern: undefined as RegExp | undefined,
    noSpace: false,
    hits: [] as string[],
    hit(path: unknown): boolean {
      const p = String(path);
      if (!state.pattern?.test(p)) return false;
      state.hits.push(p);
      return true;
    },
    enospc(syscall = "write"): NodeJS.ErrnoException {
      return Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { code: "ENOSPC", errno: -28, syscall });
    },
  };
  return state;
});

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  /** fd → path, so a write through a descriptor (the rebuild lock) can be matched too. */
  const paths = new Map<number, string>();
  const openSync = ((path: import("node:fs").PathLike, ...rest: unknown[]) => {
    const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
    paths.set(fd, String(path));
    return fd;
  }) as typeof fs.openSync;
  const closeSync = ((fd: number) => {
    paths.delete(fd);
    fs.closeSync(fd);
  }) as typeof fs.closeSync;
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    if (fault.hit(paths.get(fd))) throw fault.enospc();
    return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync;
  const writeFileSync = ((
    file: import("node:fs").PathOrFileDescriptor,
    data: string | NodeJS.ArrayBufferView,
    options?: import("node:fs").WriteFileOptions,
  ) => {
    if (fault.hit(file)) {
      // Half of the data lands, then the disk is full.
      const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      fs.writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
      throw fault.enospc();
    }
    fs.writeFileSync(file, data, options);
  }) as typeof fs.writeFileSync;
  const createWriteStream = ((path: import("node:fs").PathLike, options?: Parameters<typeof fs.createWriteStream>[1]) => {
    const stream = fs.createWriteStream(path, options);
    if (fault.hit(path)) {
      // The first chunk is written in part, then every write fails.
      const realWrite = stream._write.bind(stream);
      let first = true;
      stream._write = (chunk: Buffer, encoding, callback) => {
        if (!first) return callback(fault.enospc());
        first = false;
        realWrite(chunk.subarray(0, Math.ceil(chunk.length / 2)), encoding, (err) => callback(err ?? fault.enospc()));
      };
      (stream as { _writev?: unknown })._writev = undefined;
    }
    return stream;
  }) as typeof fs.createWriteStream;
  const statfsSync = ((path: import("node:fs").PathLike, options?: object) => {
    const real = (fs.statfsSync as (...a: unknown[]) => import("node:fs").StatsFs)(path, options);
    return fault.noSpace ? { ...real, bavail: 0, bfree: 0 } : real;
  }) as typeof fs.statfsSync;
  const mocked = { ...fs, openSync, closeSync, writeSync, writeFileSync, createWriteStream, statfsSync };
  return { ...mocked, default: mocked };
});

vi.mock("node:fs/promises", async (importOriginal) => {
  const fsp = await importOriginal<typeof import("node:fs/promises")>();
  // Claiming an upload's final name is a hard link: a new directory entry, which can also need space.
  const link = (async (existing: import("node:fs").PathLike, target: import("node:fs").PathLike) => {
    if (fault.hit(target)) throw fault.enospc("link");
    return fsp.link(existing, target);
  }) as typeof fsp.link;
  const mocked = { ...fsp, link };
  return { ...mocked, default: mocked };
});

const TOKEN = "disk-full-admin-token-4Rw9";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const QUESTIONS = ["星河-7B 的上下文长度是多少？", "reciprocal rank fusion", "量化后的模型需要多少显存"];
const DISK_SPACE = /disk space/i;

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Every file below `dir` with its sha256. */
function storeState(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(`${relative(dir, full)} ${sha256(readFileSync(full))}`);
    }
  };
  walk(dir);
  return out.sort();
}

/** What a failed write must not leave: temp index folders, pointer temp files, the lock. */
function leftovers(storeDir: string): string[] {
  return readdirSync(storeDir).filter((e) => e.startsWith(".tmp-") || (e.startsWith("CURRENT.") && e.endsWith(".tmp")) || e === LOCK_FILE);
}

async function answers(kb: KnowledgeBase): Promise<string[][]> {
  return Promise.all(QUESTIONS.map(async (q) => (await kb.search(q, 5)).map((h) => `${h.id} ${h.score}`)));
}

/** The published index, loaded fresh from disk by another reader. */
async function reloaded(docsDir: string, storeDir: string): Promise<KnowledgeBase> {
  const kb = await KnowledgeBase.open(testConfig(docsDir, storeDir));
  await kb.load();
  return kb;
}

const currentOf = (storeDir: string) => readFileSync(join(storeDir, "CURRENT"), "utf8").trim();

/** hnswlib's writer, replaced: the native write, then cut short, as a full disk leaves it (hnswlib reports nothing). */
function shortHnswWrite() {
  const original = HnswIndex.prototype.write;
  return vi.spyOn(HnswIndex.prototype, "write").mockImplementationOnce(function (this: HnswIndex, file: string) {
    original.call(this, file);
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
  });
}

interface Point {
  name: string;
  /** Turns the fault on; returns a function that turns it off. */
  inject: () => () => void;
  /** False where the fault is not a mocked fs call (hnswlib's native write). */
  viaFs?: false;
}

const byPattern =
  (pattern: RegExp): Point["inject"] =>
  () => {
    fault.pattern = pattern;
    return () => {
      fault.pattern = undefined;
    };
  };

const POINTS: Point[] = [
  { name: "the rebuild lock", inject: byPattern(/\.rebuild\.lock$/) },
  { name: "chunks.json (docstore)", inject: byPattern(/\/\.tmp-[^/]+\/chunks\.json$/) },
  { name: "lexical.json", inject: byPattern(/\/\.tmp-[^/]+\/lexical\.json$/) },
  { name: "embedder.json", inject: byPattern(/\/\.tmp-[^/]+\/embedder\.json$/) },
  {
    name: "hnsw.bin (native write, short file, statfs reports no space)",
    viaFs: false,
    inject: () => {
      const spy = shortHnswWrite();
      fault.noSpace = true;
      return () => {
        fault.noSpace = false;
        spy.mockRestore();
      };
    },
  },
  { name: "manifest.json", inject: byPattern(/\/\.tmp-[^/]+\/manifest\.json$/) },
  { name: "the CURRENT pointer", inject: byPattern(/\/CURRENT\.[^/]+\.tmp$/) },
];

describe("SECURITY-TESTS 18: disk full during an index write (injected ENOSPC)", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  let kb: KnowledgeBase;

  beforeAll(async () => {
    kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
    // A second build, so the store also holds the previous version kept for readers still loading it.
    await kb.ingest({ full: true });
  });
  afterAll(() => ws.cleanup());

  it.each(POINTS)("at $name: DISK_FULL, the published index unchanged, nothing left behind, the next rebuild succeeds", async (point) => {
    const published = currentOf(ws.storeDir);
    const state = storeState(ws.storeDir);
    const before = await answers(kb);
    fault.hits = [];

    const off = point.inject();
    let error: unknown;
    try {
      await kb.ingest({ full: true });
    } catch (err) {
      error = err;
    } finally {
      off();
    }
    if (point.viaFs !== false) expect(fault.hits.length, "the fault was reached").toBeGreaterThan(0);
    expect(isAppError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ code: "DISK_FULL", status: 507 });
    expect((error as Error).message).toMatch(DISK_SPACE);

    expect(currentOf(ws.storeDir)).toBe(published);
    expect(leftovers(ws.storeDir)).toEqual([]);
    expect(storeState(ws.storeDir)).toEqual(state);
    expect(kb.index?.dir).toContain(published);
    expect(await answers(kb)).toEqual(before);
    expect(await answers(await reloaded(ws.docsDir, ws.storeDir))).toEqual(before);

    // Space is back: the lock was released and the next rebuild publishes.
    const next = await kb.ingest({ full: true });
    expect(next.published).toBe(true);
    expect(currentOf(ws.storeDir)).not.toBe(published);
    expect(await answers(kb)).toEqual(before);
  });

  it("a short hnsw.bin with space left is still refused (INGEST_FAILED, 'disk full or failing'), not published", async () => {
    const published = currentOf(ws.storeDir);
    const state = storeState(ws.storeDir);
    const spy = shortHnswWrite();
    try {
      await expect(kb.ingest({ full: true })).rejects.toMatchObject({
        code: "INGEST_FAILED",
        message: expect.stringMatching(/hnsw\.bin is truncated.*disk full/),
      });
    } finally {
      spy.mockRestore();
    }
    expect(currentOf(ws.storeDir)).toBe(published);
    expect(storeState(ws.storeDir)).toEqual(state);
  });
});

/** A multipart body with one file part. */
function multipart(filename: string, content: string): { body: Buffer; type: string } {
  const boundary = `----kbdisk${randomUUID()}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/markdown\r\n\r\n`),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

describe("SECURITY-TESTS 18 over HTTP: rebuild jobs and uploads on a full disk", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  const uploadsDir = join(ws.docsDir, "uploads");
  let http: Awaited<ReturnType<typeof serveApp>>;

  const search = (query: string) =>
    fetch(`${http.url}/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, k: 3 }) });
  const waitForJob = async (jobId: string): Promise<any> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const job = (await (await fetch(`${http.url}/index/jobs/${jobId}`)).json()) as any;
      if (job.state === "succeeded" || job.state === "failed") return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const rebuild = async () => {
    const res = await fetch(`${http.url}/index/rebuild`, { method: "POST", headers: { ...AUTH, "content-type": "application/json" }, body: '{"full": true}' });
    expect(res.status).toBe(202);
    return ((await res.json()) as any).jobId as string;
  };
  const upload = (filename: string, content: string) => {
    const { body, type } = multipart(filename, content);
    return fetch(`${http.url}/documents`, { method: "POST", headers: { ...AUTH, "content-type": type }, body });
  };
  const uploads = () => (existsSync(uploadsDir) ? readdirSync(uploadsDir) : []);

  beforeAll(async () => {
    const kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
    http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN }), kb);
  });
  afterAll(async () => {
    fault.pattern = undefined;
    await http?.close();
    ws.cleanup();
  });

  it("a rebuild job reports failed with DISK_FULL while /search keeps answering; the next one succeeds", async () => {
    const published = currentOf(ws.storeDir);
    const before = await (await search(QUESTIONS[0] ?? "")).text();
    fault.pattern = /\/\.tmp-[^/]+\/chunks\.json$/;
    try {
      const jobId = await rebuild();
      const during = await Promise.all(QUESTIONS.map((q) => search(q)));
      expect(during.map((r) => r.status)).toEqual([200, 200, 200]);
      const job = await waitForJob(jobId);
      expect(job.state).toBe("failed");
      expect(job.error.code).toBe("DISK_FULL");
      expect(job.error.message).toMatch(DISK_SPACE);
      expect(job.error.message).not.toMatch(ws.root);
    } finally {
      fault.pattern = undefined;
    }
    const after = await search(QUESTIONS[0] ?? "");
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(before);
    expect(((await (await fetch(`${http.url}/health`)).json()) as any).status).toBe("ok");
    expect(currentOf(ws.storeDir)).toBe(published);
    expect(leftovers(ws.storeDir)).toEqual([]);

    const job = await waitForJob(await rebuild());
    expect(job.state).toBe("succeeded");
  });

  it.each([
    { name: "writing the upload", pattern: /\/uploads\/\.upload-[^/]+\.part$/ },
    { name: "claiming its final name", pattern: /\/uploads\/disk-full-note\.md$/ },
  ])("an upload that runs out of space while $name → 507 DISK_FULL, no file left in uploads/, the index unchanged", async ({ pattern }) => {
    const published = currentOf(ws.storeDir);
    const state = storeState(ws.storeDir);
    fault.pattern = pattern;
    fault.hits = [];
    let res: Response;
    try {
      res = await upload("disk-full-note.md", `# 磁盘已满\n\n${"这段文字不会被保存。".repeat(2000)}\n`);
    } finally {
      fault.pattern = undefined;
    }
    expect(fault.hits.length, "the fault was reached").toBeGreaterThan(0);
    // 507 Insufficient Storage (RFC 4918) rather than 500: the request was fine and may succeed once space is freed,
    // and clients and proxies can tell "full" apart from a server bug.
    expect(res.status).toBe(507);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("DISK_FULL");
    expect(body.error.message).toMatch(/Not enough disk space.*Nothing was saved/);
    expect(uploads()).toEqual([]);
    expect(http.jobs.running).toBeUndefined(); // no rebuild started for a write that did not happen
    expect(currentOf(ws.storeDir)).toBe(published);
    expect(storeState(ws.storeDir)).toEqual(state);
    expect((await search(QUESTIONS[0] ?? "")).status).toBe(200);
  });
});

/**
 * The real thing: a tiny tmpfs holding the store, filled so that 0, 1, 2… pages are free. Every rebuild that does
 * not fit fails with DISK_FULL at whatever write hits the limit first — including hnsw.bin, which hnswlib writes
 * natively and would otherwise leave short without a word — and leaves the store as it was.
 */
describe("SECURITY-TESTS 18 on a real full disk (tmpfs; root only)", () => {
  let root = "";
  let mnt = "";
  let mountError: string | undefined;

  // Created here, not at collection: a run filtered to other tests (-t) would otherwise leave an empty folder.
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "kb-tmpfs-"));
    mnt = join(root, "mnt");
    mkdirSync(mnt);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mnt], { stdio: "pipe" });
    } catch (err) {
      mountError = (err as { stderr?: Buffer }).stderr?.toString().trim() || String(err);
    }
  });
  afterAll(() => {
    if (!root) return;
    if (!mountError) {
      try {
        execFileSync("umount", [mnt], { stdio: "pipe" });
      } catch {
        // Still busy (a descriptor left open by a failing build): detach it rather than leave a mount behind.
        execFileSync("umount", ["-l", mnt], { stdio: "pipe" });
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it("every failure point between 0 free pages and enough space: DISK_FULL, old index served, nothing left behind", async (ctx) => {
    if (mountError) ctx.skip(`mounting a tmpfs is not permitted here (${mountError}); the injected failures above cover the same paths`);
    const ws = tempWorkspace(FIXTURE_CORPUS);
    const storeDir = join(mnt, "store");
    const filler = join(mnt, "filler");
    try {
      const kb = await builtKnowledgeBase(ws.docsDir, storeDir);
      const published = currentOf(storeDir);
      const state = storeState(storeDir);
      const before = await answers(kb);
      const { bsize } = statfsSync(mnt);
      const failures: string[] = [];
      for (let pages = 0; pages < 200; pages++) {
        const fs = statfsSync(mnt);
        writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - pages * bsize)));
        let error: unknown;
        try {
          await kb.ingest({ full: true });
        } catch (err) {
          error = err;
        } finally {
          rmSync(filler);
        }
        if (!error) break;
        expect(error, `${pages} free pages`).toMatchObject({ code: "DISK_FULL" });
        failures.push(String((error as Error).cause));
        expect(currentOf(storeDir)).toBe(published);
        expect(storeState(storeDir)).toEqual(state);
        expect(await answers(kb)).toEqual(before);
      }
      // It did run out, more than once, and once it was hnswlib's write that came out short.
      expect(failures.length).toBeGreaterThan(3);
      expect(
        failures.some((f) => /hnsw\.bin/.test(f)),
        failures.join("\n"),
      ).toBe(true);
      expect(currentOf(storeDir)).not.toBe(published);
      expect(leftovers(storeDir)).toEqual([]);
      expect(await answers(await reloaded(ws.docsDir, storeDir))).toEqual(before);
    } finally {
      rmSync(storeDir, { recursive: true, force: true });
      ws.cleanup();
    }
  });
});
