import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NO_ANSWER_SENTENCE } from "../../src/answer/abstention.ts";
import { notFoundMessage } from "../../src/answer/language.ts";
import type { KnowledgeBase } from "../../src/knowledge-base/knowledge-base.ts";
import { type ChatReply, type FakeOpenAI, type RecordedRequest, startFakeOpenAI } from "../helpers/fake-openai-server.ts";
import { serveApp } from "../helpers/http-app.ts";
import { runTs } from "../helpers/run-cli.ts";
import { readSse } from "../helpers/sse-client.ts";
import { FIXTURE_CORPUS, builtKnowledgeBase, tempWorkspace, testConfig } from "../helpers/temp-kb.ts";

/**
 * LLM mode: the model decides whether the sources hold the answer. Its abstention (the `[NO_ANSWER]` marker, or the
 * fixed sentence in either language) becomes `found: false` with no sources on every transport — /ask JSON, /ask SSE,
 * /v1/chat/completions with and without streaming, and the CLI — and the marker never reaches a client, however the
 * model's tokens cut it. Real HTTP on loopback against the fake OpenAI-compatible upstream.
 */

const KEY = "sk-test-abstention-0123456789";
const ZH_Q = "星河-7B 的上下文长度是多少？";
const EN_Q = "What is the context window of Orion-2?";
const ZH = NO_ANSWER_SENTENCE.zh;
const EN = NO_ANSWER_SENTENCE.en;

type Json = any;
type Http = Awaited<ReturnType<typeof serveApp>>;

const messagesOf = (r: RecordedRequest) => (r.body as { messages?: { content: string }[] } | undefined)?.messages ?? [];
const isRewrite = (r: RecordedRequest) => messagesOf(r)[0]?.content.includes("Rewrite the user's last message") === true;

/** What the fake model replies; each case sets it. */
let reply: string | ChatReply = "";

const ws = tempWorkspace(FIXTURE_CORPUS);
let kb: KnowledgeBase;
let fake: FakeOpenAI;
let http: Http;

const llmEnv = (): Record<string, string> => ({
  LLM_PROVIDER: "openai",
  LLM_BASE_URL: fake.url,
  LLM_API_KEY: KEY,
  LLM_TIMEOUT_MS: "3000",
  LLM_MAX_RETRIES: "0",
});

/** Every fetch in this process must stay on loopback. */
const realFetch = globalThis.fetch;
const foreignHosts: string[] = [];
globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname !== "127.0.0.1") {
    foreignHosts.push(url.host);
    return Promise.reject(new TypeError(`test blocked a request to ${url.host}`));
  }
  return realFetch(input, init);
};

beforeAll(async () => {
  kb = await builtKnowledgeBase(ws.docsDir, ws.storeDir);
  fake = await startFakeOpenAI({ chatReply: (r) => (isRewrite(r) ? ZH_Q : reply) });
  http = await serveApp(testConfig(ws.docsDir, ws.storeDir, llmEnv()), kb);
}, 60_000);
afterAll(async () => {
  await http.close();
  await fake.close();
  ws.cleanup();
  globalThis.fetch = realFetch;
});
beforeEach(() => fake.reset());

const post = (path: string, body: object, headers: Record<string, string> = {}) =>
  fetch(`${http.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/** What a client of one transport ends up with: the answer, found, sources, and every byte it received. */
interface Outcome {
  answer: string;
  found: boolean;
  sources: unknown[];
  /** For streaming transports: the tokens joined, which must equal `answer`. */
  streamed?: string;
  raw: string;
}

const TRANSPORTS: Record<string, (question: string) => Promise<Outcome>> = {
  "/ask JSON": async (question) => {
    const res = await post("/ask", { question });
    expect(res.status).toBe(200);
    const raw = await res.text();
    const body = JSON.parse(raw) as Json;
    expect(body.mode).toBe("llm");
    return { answer: body.answer, found: body.found, sources: body.sources, raw };
  },
  "/ask SSE": async (question) => {
    const res = await post("/ask", { question }, { accept: "text/event-stream" });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    const kinds = events.map((e) => e.event);
    expect(kinds[0]).toBe("sources");
    expect(kinds.at(-1)).toBe("done");
    expect(kinds.slice(1, -1).every((k) => k === "token")).toBe(true);
    const done = events.at(-1)!.data as Json;
    const streamed = events
      .filter((e) => e.event === "token")
      .map((e) => (e.data as Json).text)
      .join("");
    return { answer: done.answer, found: done.found, sources: done.sources, streamed, raw: JSON.stringify(events) };
  },
  "/v1/chat/completions": async (question) => {
    const res = await post("/v1/chat/completions", { model: "kb-assistant", messages: [{ role: "user", content: question }] });
    expect(res.status).toBe(200);
    const raw = await res.text();
    const body = JSON.parse(raw) as Json;
    expect(body.mode).toBe("llm");
    return { answer: body.choices[0].message.content, found: body.found, sources: body.sources, raw };
  },
  "/v1/chat/completions stream": async (question) => {
    const res = await post("/v1/chat/completions", { model: "kb-assistant", messages: [{ role: "user", content: question }], stream: true });
    expect(res.status).toBe(200);
    const raw = await res.text();
    const data = raw
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => l.slice(6));
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Json);
    const final = chunks.find((c) => c.choices[0]?.finish_reason === "stop");
    expect(final).toBeDefined();
    const streamed = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    return { answer: streamed, found: final.found, sources: final.sources, streamed, raw };
  },
};

interface Case {
  name: string;
  question: string;
  reply: string | ChatReply;
  found: boolean;
  /** The answer every client ends up with. */
  answer: string;
}

const CASES: Case[] = [
  { name: "the model answers", question: ZH_Q, reply: "星河-7B 支持 8192 的上下文长度 [1]。", found: true, answer: "星河-7B 支持 8192 的上下文长度 [1]。" },
  {
    name: "a partial answer that says what is missing but cites a fact",
    question: EN_Q,
    reply: "The sources do not say when it was released, but Orion-2 has a 32K context window [1].",
    found: true,
    answer: "The sources do not say when it was released, but Orion-2 has a 32K context window [1].",
  },
  {
    name: "the fixed form in the question's language (Chinese), the marker cut over four tokens",
    question: ZH_Q,
    reply: { content: `[NO_ANSWER] ${ZH}`, tokens: ["[", "NO", "_ANSWER", "] ", "知识库", "中没有找到", "这个问题的答案。"] },
    found: false,
    answer: ZH,
  },
  { name: "the fixed form in the question's language (English)", question: EN_Q, reply: `[NO_ANSWER] ${EN}`, found: false, answer: EN },
  { name: "the English sentence, no marker, to a Chinese question", question: ZH_Q, reply: EN, found: false, answer: EN },
  { name: "the Chinese fixed form to an English question", question: EN_Q, reply: `[NO_ANSWER] ${ZH}`, found: false, answer: ZH },
  {
    name: "the Chinese sentence without marker or full stop",
    question: ZH_Q,
    reply: "知识库中没有找到这个问题的答案",
    found: false,
    answer: "知识库中没有找到这个问题的答案",
  },
  { name: "the marker alone", question: ZH_Q, reply: "[NO_ANSWER]", found: false, answer: notFoundMessage(ZH_Q) },
  {
    name: "the marker after the sentence",
    question: EN_Q,
    reply: { content: `${EN} [NO_ANSWER]`, tokens: [EN, " [NO", "_ANSWER]"] },
    found: false,
    answer: EN,
  },
  {
    name: "the marker, an invented citation and a sentence",
    question: ZH_Q,
    reply: `**[NO_ANSWER]** ${ZH} [9]`,
    found: false,
    answer: `${ZH} `,
  },
];

for (const c of CASES) {
  describe(c.name, () => {
    for (const [transport, run] of Object.entries(TRANSPORTS)) {
      it(`${transport}: found ${c.found}`, async () => {
        reply = c.reply;
        const out = await run(c.question);
        expect(out.found).toBe(c.found);
        expect(out.answer).toBe(c.answer);
        if (c.found) {
          expect(out.sources.length).toBeGreaterThan(0);
          expect(out.answer).toMatch(/\[1\]/);
        } else {
          expect(out.sources).toEqual([]);
        }
        if (out.streamed !== undefined) expect(out.streamed).toBe(out.answer);
        // Not in a token, not in the final answer, not anywhere in what the client received.
        expect(out.raw).not.toMatch(/NO_ANSWER|NO\\\\_ANSWER/);
        // The model was asked once, with the rules that define the fixed form.
        const chat = fake.requests.filter((r) => r.route === "chat");
        expect(chat).toHaveLength(1);
        expect(messagesOf(chat[0]!)[0]?.content).toContain(`[NO_ANSWER] ${ZH}`);
      });
    }
  });
}

describe("npm run ask (the CLI goes through the same answer service)", () => {
  const CLI = "src/cli/main.ts";
  const env = () => ({ DOCS_DIR: ws.docsDir, VECTORSTORE_DIR: ws.storeDir, ...llmEnv() });

  it("prints the model's abstention without the marker and without sources, and says nothing was found", async () => {
    reply = { content: `[NO_ANSWER] ${ZH}`, tokens: ["[NO", "_ANSWER]", " 知识库", "中没有找到这个问题的答案。"] };
    const r = await runTs(CLI, ["ask", ZH_Q], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(ZH);
    expect(r.stdout).not.toMatch(/NO_ANSWER|Sources:/);
    expect(r.stderr).toMatch(/nothing relevant found · generated by openai:/);

    const json = JSON.parse((await runTs(CLI, ["ask", EN_Q, "--json"], env())).stdout) as Json;
    expect(json).toMatchObject({ answer: ZH, found: false, sources: [], mode: "llm" });
  }, 60_000);

  it("prints a real answer with its sources", async () => {
    reply = "星河-7B 支持 8192 的上下文长度 [1]。";
    const r = await runTs(CLI, ["ask", ZH_Q], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/8192 的上下文长度 \[1\]。\n\nSources:\n {2}\[1\] models\.md/);
    expect(r.stderr).not.toMatch(/nothing relevant found/);
  }, 60_000);
});

describe("network", () => {
  it("made no request to any host but 127.0.0.1", () => {
    expect(foreignHosts).toEqual([]);
  });
});
