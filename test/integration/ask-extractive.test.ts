import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { serveApp } from "../helpers/http-app.ts";
import { readSse } from "../helpers/sse-client.ts";
import { SURVEY_CORPUS, builtKnowledgeBase, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/** POST /ask in offline mode (no model configured) over the survey corpus that ships in docs-corpus. */

type Http = Awaited<ReturnType<typeof serveApp>>;
type Json = any;

/** `contains`: the ways the corpus states the fact (any one, compared without spaces). */
const FACTS: { q: string; contains: string[] }[] = [
  { q: "LLaMA 2 的上下文长度是多少？", contains: ["4k context length", "4096"] },
  { q: "What is the context length of LLaMA 2?", contains: ["4k context length", "4096"] },
  { q: "ChatGLM 的参数量是多少", contains: ["62 亿"] },
  { q: "How many parameters does ChatGLM have?", contains: ["62 亿"] },
  { q: "GPT-4 是什么时候发布的？", contains: ["2023 年 3 月"] },
  { q: "Claude 2 的上下文窗口有多大？", contains: ["200K"] },
  { q: "What is the context window of Claude 2?", contains: ["200K"] },
  { q: "LLaMA 3 的发布日期", contains: ["April 18, 2024"] },
  { q: "When was LLaMA 3 released?", contains: ["April 18, 2024"] },
];

const OFF_TOPIC = [
  "今天北京的天气怎么样？",
  "What's the weather like in London today?",
  "2022 年世界杯冠军是哪个国家？",
  "Who won the 2022 football World Cup?",
  "怎样在家烤面包？",
  "How do I bake bread at home?",
];

const squash = (s: string) => s.replace(/\s+/g, "");

const ws = tempWorkspace(SURVEY_CORPUS);
let kb: KnowledgeBase;
let http: Http;

beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  http = await serveApp(testConfig(ws.docsDir, ws.storeDir), kb);
});
afterAll(async () => {
  await http.close();
  ws.cleanup();
});

const post = (body: string | undefined, headers: Record<string, string> = { "content-type": "application/json" }, base = http) =>
  fetch(`${base.url}/ask`, { method: "POST", headers, ...(body === undefined ? {} : { body }) });
const ask = (body: object, base = http) => post(JSON.stringify(body), undefined, base);

describe("POST /ask, extractive: survey facts", () => {
  for (const c of FACTS) {
    it(`${c.q} → found, with the fact and valid citations`, async () => {
      const res = await ask({ question: c.q });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(body).toMatchObject({ found: true, mode: "extractive", model: "local" });
      expect(
        c.contains.some((needle) => squash(body.answer).includes(squash(needle))),
        `answer was: ${body.answer}`,
      ).toBe(true);

      expect(body.sources.length).toBeGreaterThan(0);
      for (const s of body.sources) {
        expect(typeof s.id).toBe("string");
        expect(s.source).toMatch(/^[^/\\].*\.md$/);
        expect(typeof s.title).toBe("string");
        expect(s.title.length).toBeGreaterThan(0);
        expect(Array.isArray(s.headings)).toBe(true);
        expect(typeof s.snippet).toBe("string");
        expect(s.snippet.length).toBeGreaterThan(0);
        expect(typeof s.score).toBe("number");
        expect(s.page).toBeUndefined();
        expect(s.text).toBeUndefined();
      }
      // Every [n] points at a returned source, and every returned source is cited.
      const cited = [...body.answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(cited.length).toBeGreaterThan(0);
      for (const n of cited) {
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(body.sources.length);
      }
      expect(new Set(cited).size).toBe(body.sources.length);
      expect(body.timings.retrievalMs).toBeGreaterThanOrEqual(0);
      expect(body.timings.generationMs).toBeGreaterThanOrEqual(0);
    });
  }
});

describe("POST /ask, extractive: off-topic questions", () => {
  for (const q of OFF_TOPIC) {
    it(`${q} → found:false, no sources, a plain answer in the question's language`, async () => {
      const res = await ask({ question: q });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(body).toMatchObject({ found: false, sources: [], mode: "extractive" });
      expect(body.answer).toMatch(/[\u3400-\u9fff]/.test(q) ? /知识库中没有找到/ : /couldn't find anything relevant/);
      expect(body.answer).not.toMatch(/\[\d+\]/);
    });
  }
});

describe("POST /ask, extractive: streaming", () => {
  it('"stream": true → sources, token, done (the done body equals the JSON answer)', async () => {
    const question = "ChatGLM 的参数量是多少";
    const json = (await (await ask({ question })).json()) as Json;
    const res = await ask({ question, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toMatch(/no-cache/);
    const events = await readSse(res);
    expect(events.map((e) => e.event)).toEqual(["sources", "token", "done"]);
    const done = events[2]?.data as Json;
    expect((events[0]!.data as Json).sources).toEqual(done.sources);
    expect((events[1]!.data as Json).text).toBe(done.answer);
    expect({ ...done, timings: undefined }).toEqual({ ...json, timings: undefined });
  });

  it("Accept: text/event-stream also streams; an off-topic question streams found:false", async () => {
    const res = await post(JSON.stringify({ question: OFF_TOPIC[1] }), { "content-type": "application/json", accept: "text/event-stream" });
    const events = await readSse(res);
    expect(events.map((e) => e.event)).toEqual(["sources", "token", "done"]);
    expect((events[0]!.data as Json).sources).toEqual([]);
    expect(events[2]?.data).toMatchObject({ found: false, sources: [] });
  });
});

describe("POST /ask: input validation (400 before any retrieval)", () => {
  let retrievals: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    retrievals?.mockRestore();
    retrievals = vi.spyOn(kb, "retrieveDetailed");
  });
  afterAll(() => retrievals?.mockRestore());

  const bad: [string, string | undefined, Record<string, string> | undefined, number, string][] = [
    ["malformed JSON", '{"question": "LLaMA', undefined, 400, "INVALID_JSON"],
    ["no body", undefined, undefined, 400, "BAD_REQUEST"],
    ["body null", "null", undefined, 400, "INVALID_JSON"],
    ["body an array", '["LLaMA 2"]', undefined, 400, "BAD_REQUEST"],
    ["body a number", "42", undefined, 400, "INVALID_JSON"],
    ["body a string", '"LLaMA 2"', undefined, 400, "INVALID_JSON"],
    ["NaN for k (not JSON)", '{"question": "LLaMA 2", "k": NaN}', undefined, 400, "INVALID_JSON"],
    ["no question", "{}", undefined, 400, "BAD_REQUEST"],
    ["a number question", JSON.stringify({ question: 5 }), undefined, 400, "BAD_REQUEST"],
    ["an array question", JSON.stringify({ question: ["LLaMA 2"] }), undefined, 400, "BAD_REQUEST"],
    ["an object question", JSON.stringify({ question: { toString: "x" } }), undefined, 400, "BAD_REQUEST"],
    ["a null question", JSON.stringify({ question: null }), undefined, 400, "BAD_REQUEST"],
    ["the question only under __proto__", '{"__proto__": {"question": "LLaMA 2 的上下文长度"}}', undefined, 400, "BAD_REQUEST"],
    ["an empty question", JSON.stringify({ question: "" }), undefined, 400, "BAD_REQUEST"],
    ["a whitespace question", JSON.stringify({ question: " \n\t\u3000 " }), undefined, 400, "BAD_REQUEST"],
    ["a question over 2000 characters", JSON.stringify({ question: "长".repeat(2001) }), undefined, 400, "BAD_REQUEST"],
    ["a question over 2000 characters (English)", JSON.stringify({ question: `${"What is LLaMA 2? ".repeat(130)}` }), undefined, 400, "BAD_REQUEST"],
    ["a lone high surrogate", '{"question": "LLaMA \\ud800 2"}', undefined, 400, "BAD_REQUEST"],
    ["a lone low surrogate", '{"question": "\\udc00LLaMA 2"}', undefined, 400, "BAD_REQUEST"],
    ["a NUL character", JSON.stringify({ question: "LLaMA\u0000 2" }), undefined, 400, "BAD_REQUEST"],
    ["an escape character", JSON.stringify({ question: "LLaMA \u001b[31m 2" }), undefined, 400, "BAD_REQUEST"],
    ["DEL", JSON.stringify({ question: "LLaMA 2\u007f" }), undefined, 400, "BAD_REQUEST"],
    ["k = 0", JSON.stringify({ question: "LLaMA 2", k: 0 }), undefined, 400, "BAD_REQUEST"],
    ["k = -1", JSON.stringify({ question: "LLaMA 2", k: -1 }), undefined, 400, "BAD_REQUEST"],
    ["k = 1e9", JSON.stringify({ question: "LLaMA 2", k: 1e9 }), undefined, 400, "BAD_REQUEST"],
    ["k = 2.5", JSON.stringify({ question: "LLaMA 2", k: 2.5 }), undefined, 400, "BAD_REQUEST"],
    ["k as a string", JSON.stringify({ question: "LLaMA 2", k: "5" }), undefined, 400, "BAD_REQUEST"],
    ["k null", JSON.stringify({ question: "LLaMA 2", k: null }), undefined, 400, "BAD_REQUEST"],
    ["stream as a string", JSON.stringify({ question: "LLaMA 2", stream: "yes" }), undefined, 400, "BAD_REQUEST"],
    ["history an object", JSON.stringify({ question: "LLaMA 2", history: { role: "user", content: "x" } }), undefined, 400, "BAD_REQUEST"],
    ["history a string", JSON.stringify({ question: "LLaMA 2", history: "earlier" }), undefined, 400, "BAD_REQUEST"],
    ["history with a bad role", JSON.stringify({ question: "LLaMA 2", history: [{ role: "system", content: "x" }] }), undefined, 400, "BAD_REQUEST"],
    ["history with non-string content", JSON.stringify({ question: "LLaMA 2", history: [{ role: "user", content: 5 }] }), undefined, 400, "BAD_REQUEST"],
    ["history with a null turn", JSON.stringify({ question: "LLaMA 2", history: [null] }), undefined, 400, "BAD_REQUEST"],
    [
      "history with too many turns",
      JSON.stringify({ question: "LLaMA 2", history: Array.from({ length: 21 }, () => ({ role: "user", content: "x" })) }),
      undefined,
      400,
      "BAD_REQUEST",
    ],
    [
      "a history turn over 8000 characters",
      JSON.stringify({ question: "LLaMA 2", history: [{ role: "user", content: "x".repeat(8001) }] }),
      undefined,
      400,
      "BAD_REQUEST",
    ],
    [
      "a body over the size limit",
      JSON.stringify({ question: "LLaMA 2", history: [{ role: "user", content: "长".repeat(30_000) }] }),
      undefined,
      413,
      "PAYLOAD_TOO_LARGE",
    ],
    ["text/plain", "question=LLaMA 2", { "content-type": "text/plain" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["form-encoded", "question=LLaMA+2", { "content-type": "application/x-www-form-urlencoded" }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    ["JSON without a content type", JSON.stringify({ question: "LLaMA 2" }), {}, 415, "UNSUPPORTED_MEDIA_TYPE"],
  ];
  for (const [name, body, headers, status, code] of bad) {
    it(`rejects ${name} with ${status} ${code}`, async () => {
      const res = await post(body, headers);
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const json = (await res.json()) as Json;
      expect(json.error.code).toBe(code);
      expect(typeof json.error.message).toBe("string");
      expect(json.error.message.length).toBeGreaterThan(0);
      expect(JSON.stringify(json)).not.toMatch(/at .*\.ts:\d+|node_modules/);
      expect(retrievals).not.toHaveBeenCalled();
    });
  }

  it("k at the maximum (50, more than most questions match) is accepted", async () => {
    const res = await ask({ question: "LLaMA 2 的上下文长度是多少？", k: 50 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).found).toBe(true);
    // The spy does see real retrievals, so "not called" above means something.
    expect(retrievals).toHaveBeenCalled();
  });

  it("a question of exactly 2000 characters is accepted", async () => {
    const res = await ask({ question: `LLaMA 2 的上下文长度是多少？${" ".repeat(1984)}x`.slice(0, 2000) });
    expect(res.status).toBe(200);
  });

  it("__proto__ keys do not pollute prototypes", async () => {
    const res = await post('{"question": "LLaMA 2 的上下文长度是多少？", "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted2": true}}}');
    expect([200, 400]).toContain(res.status);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
  });

  it("keeps answering after bad requests", async () => {
    await post("{broken");
    const res = await ask({ question: "When was LLaMA 3 released?" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).found).toBe(true);
  });
});

describe("POST /ask with an empty knowledge base", () => {
  it("an empty docs folder → 200 found:false, JSON and SSE", async () => {
    const empty = tempWorkspace();
    mkdirSync(empty.docsDir, { recursive: true });
    const emptyKb = await builtKnowledgeBase(empty.docsDir, empty.storeDir);
    const app = await serveApp(testConfig(empty.docsDir, empty.storeDir), emptyKb);
    try {
      const res = await ask({ question: "LLaMA 2 的上下文长度是多少？" }, app);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ found: false, sources: [] });
      const events = await readSse(await ask({ question: "What is LLaMA?", stream: true }, app));
      expect(events.map((e) => e.event)).toEqual(["sources", "token", "done"]);
      expect(events[2]?.data).toMatchObject({ found: false, sources: [] });
    } finally {
      await app.close();
      empty.cleanup();
    }
  });

  it("no index at all → a JSON error that says to ingest, never a 500", async () => {
    const none = tempWorkspace(SURVEY_CORPUS);
    const unloaded = await KnowledgeBase.open(testConfig(none.docsDir, none.storeDir));
    const app = await serveApp(testConfig(none.docsDir, none.storeDir), unloaded);
    try {
      const res = await ask({ question: "LLaMA 2 的上下文长度是多少？" }, app);
      expect(res.status).toBe(503);
      const body = (await res.json()) as Json;
      expect(body.error.code).toBe("INDEX_NOT_FOUND");
      expect(body.error.message).toMatch(/npm run ingest/);
    } finally {
      await app.close();
      none.cleanup();
    }
  });
});
