import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RebuildJobs } from "../../src/ingest/rebuild-jobs.ts";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { UPLOAD_LIMITS } from "../../server/upload/upload-limits.ts";
import { serveApp } from "../helpers/http-app.ts";
import { builtKnowledgeBase, FIXTURE_CORPUS, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

const TOKEN = "test-admin-token-Zq8w";
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Part {
  filename?: string;
  /** Send the name as RFC 5987 `filename*=` (already encoded). */
  filenameStar?: string;
  field?: string;
  content: string | Buffer;
}

/** A multipart body built by hand, so file names reach the server byte for byte (no client-side escaping). */
function multipart(parts: Part[]): { body: Buffer; type: string } {
  const boundary = `----kbtest${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const name = `name="${p.field ?? "file"}"`;
    const file = p.filenameStar !== undefined ? `; filename*=${p.filenameStar}` : p.filename !== undefined ? `; filename="${p.filename}"` : "";
    const type = p.filename !== undefined || p.filenameStar !== undefined ? "application/octet-stream" : "text/plain";
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${name}${file}\r\nContent-Type: ${type}\r\n\r\n`, "utf8"));
    chunks.push(Buffer.from(p.content), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** Every file below `dir` (relative paths), to prove what a request did or did not write. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** A request with a raw path (fetch would normalise `..` segments away). */
function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolveRes, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolveRes({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("knowledge-base management API", () => {
  const ws = tempWorkspace(FIXTURE_CORPUS);
  const uploadsDir = join(ws.docsDir, "uploads");
  let kb: KnowledgeBase;
  let http: Awaited<ReturnType<typeof serveApp>>;

  const upload = (parts: Part[], headers: Record<string, string> = AUTH, path = "/documents") => {
    const { body, type } = multipart(parts);
    return fetch(`${http.url}${path}`, { method: "POST", headers: { ...headers, "content-type": type }, body });
  };
  const json = async (res: Response): Promise<any> => res.json();
  const documents = async (): Promise<any[]> => (await json(await fetch(`${http.url}/documents`))).documents;
  const waitForJob = async (jobId: string, url = http.url): Promise<any> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const job = await json(await fetch(`${url}/index/jobs/${jobId}`));
      if (job.state === "succeeded" || job.state === "failed") return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.state}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const search = async (query: string): Promise<any[]> =>
    (await json(await fetch(`${http.url}/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, k: 5 }) })))
      .results;
  /** Files outside DOCS_DIR and the index: nothing a document request does may change them. */
  const outside = (): string[] => tree(ws.root).filter((p) => !p.startsWith(`docs${sep}`) && !p.startsWith(`store${sep}`));

  beforeAll(async () => {
    kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
    http = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN }), kb);
  });
  // Uploads and deletes start rebuilds; let each finish so tests do not see one another's jobs.
  afterEach(async () => {
    const running = http.jobs.running;
    if (running) await http.jobs.wait(running.id);
  });
  afterAll(async () => {
    await http?.close();
    ws.cleanup();
  });

  it("GET /documents lists the indexed documents without a token", async () => {
    const res = await fetch(`${http.url}/documents`);
    expect(res.status).toBe(200);
    const docs = (await json(res)).documents;
    expect(docs.map((d: any) => d.source)).toEqual(["models.md", "page.html", "sub/notes.txt"]);
    for (const d of docs) {
      expect(d.id).toMatch(/^[0-9a-f]{16}$/);
      expect(d).toMatchObject({ title: expect.any(String), format: expect.any(String), chunks: expect.any(Number), bytes: expect.any(Number) });
      expect(Number.isNaN(Date.parse(d.updatedAt))).toBe(false);
    }
  });

  it("uploads a Markdown file, rebuilds, and then finds its content", async () => {
    const fact = "紫晶-9X 模型的上下文长度为 65536 个词元，由青石实验室在 2031 年发布。";
    const res = await upload([{ filename: "紫晶模型.md", content: `# 紫晶模型\n\n${fact}\n` }]);
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body.documents).toEqual([{ source: "uploads/紫晶模型.md", bytes: Buffer.byteLength(`# 紫晶模型\n\n${fact}\n`) }]);
    expect(typeof body.jobId).toBe("string");
    expect(readFileSync(join(uploadsDir, "紫晶模型.md"), "utf8")).toContain("紫晶-9X");

    const job = await waitForJob(body.jobId);
    expect(job).toMatchObject({ id: body.jobId, state: "succeeded", progress: { done: expect.any(Number), total: expect.any(Number) } });
    expect(job.summary.files).toBeGreaterThanOrEqual(4);
    expect(typeof job.createdAt).toBe("string");
    expect(typeof job.finishedAt).toBe("string");

    expect((await documents()).map((d) => d.source)).toContain("uploads/紫晶模型.md");
    const results = await search("紫晶-9X 的上下文长度");
    expect(results[0]?.source).toBe("uploads/紫晶模型.md");
    // Temp files never linger next to the stored ones.
    expect(tree(uploadsDir).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("keeps both files when a name is taken: `name (2).ext`", async () => {
    const first = await json(await upload([{ filename: "dup.txt", content: "first copy of dup" }]));
    await http.jobs.wait(first.jobId);
    const second = await json(await upload([{ filename: "dup.txt", content: "second copy of dup" }]));
    expect(second.documents).toEqual([{ source: "uploads/dup (2).txt", bytes: 18 }]);
    expect(readFileSync(join(uploadsDir, "dup.txt"), "utf8")).toBe("first copy of dup");
  });

  it("accepts a real PDF and several files in one request", async () => {
    const pdf = readFileSync(join(import.meta.dirname, "../fixtures/sample-zh.pdf"));
    const res = await upload([
      { filename: "sample.pdf", content: pdf },
      { filename: "page two.html", content: "<html><body><h1>Two</h1><p>hello</p></body></html>" },
      { field: "note", content: "plain fields are ignored" },
    ]);
    expect(res.status).toBe(202);
    expect((await json(res)).documents.map((d: any) => d.source)).toEqual(["uploads/sample.pdf", "uploads/page two.html"]);
  });

  it("deletes a document from disk and index (upload → delete round trip)", async () => {
    const up = await json(await upload([{ filename: "round-trip.md", content: "# 往返\n\n蓝鲸-42 是一个只在往返测试里出现的模型名称。\n" }]));
    await waitForJob(up.jobId);
    const doc = (await documents()).find((d) => d.source === "uploads/round-trip.md");
    expect(doc).toBeDefined();
    expect((await search("蓝鲸-42"))[0]?.source).toBe("uploads/round-trip.md");

    const res = await fetch(`${http.url}/documents/${doc.id}`, { method: "DELETE", headers: AUTH });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body.deleted).toEqual({ id: doc.id, source: "uploads/round-trip.md" });
    expect(existsSync(join(uploadsDir, "round-trip.md"))).toBe(false);
    expect((await waitForJob(body.jobId)).state).toBe("succeeded");

    expect((await documents()).some((d) => d.id === doc.id)).toBe(false);
    expect((await search("蓝鲸-42")).some((r) => r.source === "uploads/round-trip.md")).toBe(false);
    const again = await fetch(`${http.url}/documents/${doc.id}`, { method: "DELETE", headers: AUTH });
    expect(again.status).toBe(404);
  });

  describe("SECURITY-TESTS 1: hostile upload names stay inside DOCS_DIR/uploads", () => {
    const names: [string, Part][] = [
      ["../x.md", { filename: "../x.md", content: "a" }],
      ["..\\x.md", { filename: "..\\x.md", content: "a" }],
      ["/abs/x.md", { filename: "/abs/x.md", content: "a" }],
      ["C:\\x.md", { filename: "C:\\x.md", content: "a" }],
      ["%2e%2e%2fx.md", { filename: "%2e%2e%2fx.md", content: "a" }],
      ["....//x.md", { filename: "....//x.md", content: "a" }],
      ["a NUL byte", { filename: "x\u0000.md", content: "a" }],
      ["1,000 characters", { filename: `${"长".repeat(996)}.md`, content: "a" }],
      ["full-width ．．／x.md (NFKC)", { filename: "．．／x.md", content: "a" }],
      ["filename*= ..%2F..%2Fx.md", { filenameStar: "UTF-8''..%2F..%2Fx.md", content: "a" }],
      // Raw control bytes in a header make the multipart body malformed (400); encoded ones reach the sanitiser.
      ["filename*= with encoded NUL, BEL and a bidi override", { filenameStar: "UTF-8''x%00%07%E2%80%AEdm.md", content: "a" }],
      ["a bare ..", { filename: "..", content: "a" }],
      [".hidden.md", { filename: ".hidden.md", content: "a" }],
      ["control characters and a bidi override", { filename: "evil\u202Edm.\u0007x.md", content: "a" }],
    ];
    for (const [label, part] of names) {
      it(`${label} → 400/415 or a server-chosen name inside uploads/`, async () => {
        const before = outside();
        const docsBefore = tree(ws.docsDir).filter((p) => !p.startsWith(`uploads${sep}`));
        const res = await upload([part]);
        expect([202, 400, 415]).toContain(res.status);
        const body = await json(res);
        if (res.status === 202) {
          expect(body.documents).toHaveLength(1);
          const source: string = body.documents[0].source;
          expect(source).toMatch(/^uploads\/[^/\\]+$/);
          const stored = source.slice("uploads/".length);
          expect(stored.startsWith(".")).toBe(false);
          expect([...stored].length).toBeLessThanOrEqual(120);
          expect(stored).not.toMatch(/[\u0000-\u001f\u202e]/);
          const path = resolve(ws.docsDir, source);
          expect(path.startsWith(uploadsDir + sep)).toBe(true);
          expect(statSync(path).isFile()).toBe(true);
        } else {
          expect(typeof body.error.code).toBe("string");
        }
        expect(outside()).toEqual(before);
        // Only uploads/ may change inside DOCS_DIR.
        expect(tree(ws.docsDir).filter((p) => !p.startsWith(`uploads${sep}`))).toEqual(docsBefore);
        for (const p of [join(ws.root, "x.md"), join(tmpdir(), "x.md"), "/abs/x.md", join(ws.docsDir, "x.md"), "/x.md"]) expect(existsSync(p)).toBe(false);
        expect(tree(uploadsDir).filter((n) => n.startsWith("."))).toEqual([]);
      });
    }
  });

  it("refuses an unsupported extension with 415 and writes nothing", async () => {
    const before = tree(ws.docsDir);
    for (const filename of ["tool.exe", "image.png", "noext"]) {
      const res = await upload([{ filename, content: "MZ" }]);
      expect(res.status).toBe(415);
      expect((await json(res)).error.code).toBe("UNSUPPORTED_FILE_TYPE");
    }
    expect(tree(ws.docsDir)).toEqual(before);
  });

  it("refuses a body that is not multipart with 415", async () => {
    for (const [type, body] of [
      ["application/json", JSON.stringify({ file: "x" })],
      ["text/plain", "hello"],
    ]) {
      const res = await fetch(`${http.url}/documents`, { method: "POST", headers: { ...AUTH, "content-type": type as string }, body: body as string });
      expect(res.status).toBe(415);
      expect((await json(res)).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    }
    const noFiles = await upload([{ field: "x", content: "only a field" }]);
    expect(noFiles.status).toBe(400);
  });

  describe("SECURITY-TESTS 2: hostile ids on DELETE /documents/:id → 400/404, nothing deleted", () => {
    const paths = [
      "/documents/..%2F..%2Fetc",
      "/documents/../x",
      "/documents/..%2Fmodels.md",
      "/documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      `/documents/${"a".repeat(1000)}`,
      "/documents/0123456789ABCDEF",
      "/documents/0123456789abcdeg",
      "/documents/ffffffffffffffff",
      "/documents/models.md",
      "/documents/%00",
      "/documents/%E0%A4%A",
    ];
    for (const path of paths) {
      it(`DELETE ${path.length > 60 ? `${path.slice(0, 40)}…` : path}`, async () => {
        const before = tree(ws.docsDir);
        const listed = await documents();
        const res = await rawRequest(http.url, "DELETE", path, AUTH);
        expect([400, 404]).toContain(res.status);
        expect(JSON.parse(res.body).error.code).toMatch(/^(BAD_REQUEST|NOT_FOUND)$/);
        expect(tree(ws.docsDir)).toEqual(before);
        expect(await documents()).toEqual(listed);
        expect(http.jobs.running).toBeUndefined();
      });
    }
  });

  describe("SECURITY-TESTS 3: content must match the extension", () => {
    const cases: [string, Part[]][] = [
      ["a .pdf that is really HTML", [{ filename: "report.pdf", content: "<html><script>alert(1)</script></html>" }]],
      ["a .pdf that is really SVG", [{ filename: "chart.pdf", content: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' }]],
      ["an empty .pdf", [{ filename: "empty.pdf", content: "" }]],
      ["a .md with NUL bytes (binary)", [{ filename: "bin.md", content: Buffer.from([0x23, 0x20, 0x00, 0x01, 0x02]) }]],
      ["a .txt that is not UTF-8", [{ filename: "latin.txt", content: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff]) }]],
      [
        "a good .md next to a fake .pdf (all or nothing)",
        [
          { filename: "good.md", content: "# fine" },
          { filename: "bad.pdf", content: "<html></html>" },
        ],
      ],
    ];
    for (const [label, parts] of cases) {
      it(`${label} → 422 PARSE_FAILED, nothing written`, async () => {
        const before = tree(ws.docsDir);
        const res = await upload(parts);
        expect(res.status).toBe(422);
        const body = await json(res);
        expect(body.error.code).toBe("PARSE_FAILED");
        expect(tree(ws.docsDir)).toEqual(before);
        expect(http.jobs.running).toBeUndefined();
      });
    }
  });

  describe("SECURITY-TESTS 4: limits → 413, no files or temp files left", () => {
    const expect413 = async (res: Response, before: string[]) => {
      expect(res.status).toBe(413);
      expect((await json(res)).error.code).toBe("PAYLOAD_TOO_LARGE");
      expect(tree(ws.docsDir)).toEqual(before);
      expect(http.jobs.running).toBeUndefined();
    };

    it(`a file over ${UPLOAD_LIMITS.maxFileBytes} bytes`, async () => {
      const before = tree(ws.docsDir);
      const big = Buffer.alloc(UPLOAD_LIMITS.maxFileBytes + 1, "a");
      await expect413(
        await upload([
          { filename: "small.md", content: "# ok" },
          { filename: "big.md", content: big },
        ]),
        before,
      );
      // The server still answers normally afterwards.
      expect((await fetch(`${http.url}/documents`)).status).toBe(200);
    });

    it(`more than ${UPLOAD_LIMITS.maxFiles} files`, async () => {
      const before = tree(ws.docsDir);
      const parts = Array.from({ length: UPLOAD_LIMITS.maxFiles + 1 }, (_, i) => ({ filename: `f${i}.md`, content: `# file ${i}` }));
      await expect413(await upload(parts), before);
    });

    it(`more than ${UPLOAD_LIMITS.maxParts} parts`, async () => {
      const before = tree(ws.docsDir);
      const parts: Part[] = [
        { filename: "one.md", content: "# one" },
        ...Array.from({ length: UPLOAD_LIMITS.maxParts }, (_, i) => ({ field: `f${i}`, content: "x" })),
      ];
      await expect413(await upload(parts), before);
    });

    it(`files over ${UPLOAD_LIMITS.maxTotalBytes} bytes together`, async () => {
      const before = tree(ws.docsDir);
      const chunk = Buffer.alloc(UPLOAD_LIMITS.maxFileBytes - 1024, "b");
      const count = Math.ceil(UPLOAD_LIMITS.maxTotalBytes / chunk.length) + 1;
      await expect413(await upload(Array.from({ length: count }, (_, i) => ({ filename: `part${i}.txt`, content: chunk }))), before);
    });

    it("a declared Content-Length over the total limit is refused before the body is read", async () => {
      const before = tree(ws.docsDir);
      const { hostname, port } = new URL(http.url);
      const status = await new Promise<number>((resolveStatus, reject) => {
        const req = httpRequest(
          {
            host: hostname,
            port,
            method: "POST",
            path: "/documents",
            headers: { ...AUTH, "content-type": "multipart/form-data; boundary=x", "content-length": String(UPLOAD_LIMITS.maxTotalBytes * 4) },
          },
          (res) => {
            res.resume();
            resolveStatus(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on("error", (err) => (req.destroyed ? undefined : reject(err)));
        req.write("--x\r\n");
      });
      expect(status).toBe(413);
      expect(tree(ws.docsDir)).toEqual(before);
    });
  });

  describe("SECURITY-TESTS 13: write endpoints need the admin token", () => {
    const someId = async () => (await documents())[0].id as string;
    const writes: [string, (headers: Record<string, string>, query?: string) => Promise<Response>][] = [
      ["POST /documents", (h, q = "") => upload([{ filename: "sneaky.md", content: "# sneaky" }], h, `/documents${q}`)],
      ["DELETE /documents/:id", async (h, q = "") => fetch(`${http.url}/documents/${await someId()}${q}`, { method: "DELETE", headers: h })],
      ["POST /index/rebuild", (h, q = "") => fetch(`${http.url}/index/rebuild${q}`, { method: "POST", headers: h })],
    ];
    const refusals: [string, Record<string, string>, string?][] = [
      ["no Authorization header", {}],
      ["a wrong token", { authorization: "Bearer wrong-token" }],
      ["a token that is a prefix of the real one", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ["an empty token", { authorization: "Bearer " }],
      ["another scheme", { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString("base64")}` }],
      ["the token in ?token=", {}, `?token=${TOKEN}`],
      ["the token in ?access_token= (even with the header)", AUTH, `?access_token=${TOKEN}`],
    ];
    for (const [route, send] of writes) {
      for (const [label, headers, query] of refusals) {
        it(`${route} with ${label} → 401, state unchanged`, async () => {
          const before = tree(ws.docsDir);
          const listed = await documents();
          const res = await send(headers, query);
          expect(res.status).toBe(401);
          expect(res.headers.get("www-authenticate")).toBe("Bearer");
          const body = await json(res);
          expect(body.error.code).toBe("UNAUTHORIZED");
          expect(JSON.stringify(body)).not.toContain(TOKEN);
          expect(tree(ws.docsDir)).toEqual(before);
          expect(await documents()).toEqual(listed);
          expect(http.jobs.running).toBeUndefined();
        });
      }
    }

    it("never logs the token", () => {
      expect(http.logs.join("\n")).not.toContain(TOKEN);
    });

    it("with no ADMIN_TOKEN configured, write endpoints are disabled (403), never open", async () => {
      const open = await serveApp(testConfig(ws.docsDir, ws.storeDir), kb);
      try {
        const before = tree(ws.docsDir);
        const id = await someId();
        const { body, type } = multipart([{ filename: "open.md", content: "# open" }]);
        const responses = [
          await fetch(`${open.url}/documents`, { method: "POST", headers: { "content-type": type }, body }),
          await fetch(`${open.url}/documents`, { method: "POST", headers: { ...AUTH, "content-type": type }, body }),
          await fetch(`${open.url}/documents/${id}`, { method: "DELETE", headers: { authorization: "Bearer " } }),
          await fetch(`${open.url}/index/rebuild`, { method: "POST" }),
        ];
        for (const res of responses) {
          expect(res.status).toBe(403);
          expect(await json(res)).toMatchObject({ error: { code: "WRITE_DISABLED", message: "write endpoints are disabled: set ADMIN_TOKEN" } });
        }
        expect(tree(ws.docsDir)).toEqual(before);
        expect(open.jobs.running).toBeUndefined();
        // Reading stays open.
        expect((await fetch(`${open.url}/documents`)).status).toBe(200);
      } finally {
        await open.close();
      }
    });

    it("grants no CORS access to a foreign origin", async () => {
      const origin = { origin: "https://evil.example" };
      const preflight = await fetch(`${http.url}/documents`, {
        method: "OPTIONS",
        headers: { ...origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
      const list = await fetch(`${http.url}/documents`, { headers: origin });
      const write = await fetch(`${http.url}/index/rebuild`, { method: "POST", headers: { ...origin } });
      for (const res of [preflight, list, write]) {
        expect(res.headers.get("access-control-allow-origin")).toBeNull();
        expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      }
    });
  });

  describe("POST /index/rebuild and GET /index/jobs/:id", () => {
    it("starts a rebuild (202 {jobId}) and reports it until it succeeds", async () => {
      const res = await fetch(`${http.url}/index/rebuild`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ full: true }),
      });
      expect(res.status).toBe(202);
      const { jobId } = await json(res);
      expect(typeof jobId).toBe("string");
      expect(res.headers.get("location")).toBe(`/index/jobs/${jobId}`);
      const job = await waitForJob(jobId);
      expect(job).toMatchObject({ id: jobId, state: "succeeded", full: true, progress: { phase: expect.any(String) } });
      expect(job.summary).toMatchObject({ files: expect.any(Number), chunks: expect.any(Number) });
      expect(job.error).toBeUndefined();
    });

    it("a bare POST (no body) starts an incremental rebuild", async () => {
      const res = await fetch(`${http.url}/index/rebuild`, { method: "POST", headers: AUTH });
      expect(res.status).toBe(202);
      expect((await waitForJob((await json(res)).jobId)).full).toBe(false);
    });

    it("validates the body and unknown job ids", async () => {
      const bad = await fetch(`${http.url}/index/rebuild`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ full: "yes" }),
      });
      expect(bad.status).toBe(400);
      expect((await json(bad)).error.code).toBe("BAD_REQUEST");
      for (const id of [randomUUID(), "..%2F..%2Fetc", "x".repeat(1000)]) {
        const res = await fetch(`${http.url}/index/jobs/${id}`);
        expect(res.status).toBe(404);
        expect((await json(res)).error.code).toBe("NOT_FOUND");
      }
    });

    it("refuses a second rebuild while one runs (409) and keeps uploads made meanwhile", async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      // A rebuild held open by the test, so "while one runs" does not depend on timing.
      const jobs = new RebuildJobs(async ({ full, onProgress }) => {
        await gate;
        return kb.ingest({ full, onProgress });
      });
      const held = await serveApp(testConfig(ws.docsDir, ws.storeDir, { ADMIN_TOKEN: TOKEN }), kb, { jobs });
      try {
        const first = await fetch(`${held.url}/index/rebuild`, { method: "POST", headers: AUTH });
        expect(first.status).toBe(202);
        const { jobId } = await json(first);
        const running = await json(await fetch(`${held.url}/index/jobs/${jobId}`));
        expect(running.state).toBe("running");
        expect(running.finishedAt).toBeUndefined();

        const second = await fetch(`${held.url}/index/rebuild`, { method: "POST", headers: AUTH });
        expect(second.status).toBe(409);
        expect((await json(second)).error.code).toBe("REBUILD_IN_PROGRESS");

        const { body, type } = multipart([{ filename: "during-rebuild.md", content: "# saved while a rebuild runs" }]);
        const up = await fetch(`${held.url}/documents`, { method: "POST", headers: { ...AUTH, "content-type": type }, body });
        expect(up.status).toBe(202);
        expect(await json(up)).toEqual({
          documents: [{ source: "uploads/during-rebuild.md", bytes: 28 }],
          jobId: null,
          message: "saved; a rebuild is already running — start another when it finishes",
        });
        expect(existsSync(join(uploadsDir, "during-rebuild.md"))).toBe(true);

        release();
        expect((await waitForJob(jobId, held.url)).state).toBe("succeeded");
        const third = await fetch(`${held.url}/index/rebuild`, { method: "POST", headers: AUTH });
        expect(third.status).toBe(202);
        await waitForJob((await json(third)).jobId, held.url);
        expect((await documents()).map((d) => d.source)).toContain("uploads/during-rebuild.md");
      } finally {
        release();
        await held.close();
      }
    });
  });
});
