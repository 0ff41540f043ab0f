import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import autocannon from "autocannon";
import express from "express";
import { createApp } from "../server/create-app.ts";
import { createLogger } from "../server/logger.ts";
import { createAnswerService } from "../src/answer/create-answer-service.ts";
import { type AppConfig, loadConfig } from "../src/config/config.ts";
import { percentile } from "../src/eval/run-eval.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";
import { startFakeOpenAI } from "../test/helpers/fake-openai-server.ts";
import { readSse } from "../test/helpers/sse-client.ts";

/**
 * `npm run bench:ask`: POST /ask under load and the streaming overhead of LLM mode, in one process, on loopback only.
 *
 * 1. Extractive mode over docs-corpus (temp index): autocannon drives POST /ask with a rotation of survey questions at
 *    16 connections for 15 s (ASK_BENCH_SECONDS / ASK_BENCH_CONNECTIONS override). autocannon runs in a worker thread
 *    so the load generator does not share the server's event loop — the server still gets one thread, as in production.
 *    The same load also goes to a bare Express 5 JSON route (`express.json()` and `res.json`, nothing else) in the
 *    same process, for half the time just before /ask and half just after: /ask throughput is reported as a ratio to
 *    it, which a busy or slower machine moves less than the raw figure (the target is ≥ 0.5 × bare).
 * 2. LLM mode against the fake OpenAI-compatible upstream with a fixed first-token delay: the time until an HTTP client
 *    of POST /ask sees its first SSE `token` event, minus that delay, is what the app adds (retrieval, prompt, LangChain,
 *    the SDK, SSE framing). A client talking to the fake directly is measured too, as the floor of loopback + timers.
 *
 * Prints a Markdown table and replaces the <!-- ask:start --> block of docs/benchmarks.md.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.ASK_BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.ASK_BENCH_CONNECTIONS ?? 16);
const SINGLE_SECONDS = Number(process.env.ASK_BENCH_SINGLE_SECONDS ?? 5);
const TTFT_RUNS = Number(process.env.ASK_BENCH_TTFT_RUNS ?? 30);
const FIRST_TOKEN_DELAY_MS = 200;
const TARGETS = { p50Ms: 10, p99Ms: 50, ttftOverheadMs: 20, bareRatio: 0.5 };

/** The first ten survey questions of the abstention set: Chinese and English, all answerable from docs-corpus. */
const QUESTIONS: string[] = readFileSync(join(root, "bench/data/on-topic-survey.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { question: string }).question)
  .slice(0, 10);

const work = mkdtempSync(join(tmpdir(), "kb-bench-ask-"));

function configFor(env: Record<string, string>): AppConfig {
  // The user's LLM_* settings never apply: phase 1 is offline, phase 2 talks only to the loopback fake.
  return loadConfig({
    ...process.env,
    DOCS_DIR: join(root, "docs-corpus"),
    VECTORSTORE_DIR: join(work, "store"),
    LOG_LEVEL: "warn",
    LLM_PROVIDER: "none",
    // All load comes from one client (127.0.0.1): the per-client question limit would answer 429 after 60.
    RATE_LIMIT_PER_MIN: "0",
    ...env,
  });
}

async function listen(config: AppConfig, kb: KnowledgeBase): Promise<{ url: string; close: () => Promise<void> }> {
  const answers = await createAnswerService(kb, config);
  const logger = createLogger("warn");
  const llm = config.llm ? { provider: config.llm.provider, model: config.llm.model } : null;
  const app = createApp({ config, kb, logger, answers, llm });
  const server: Server = await new Promise((ok) => {
    const s = app.listen(0, "127.0.0.1", () => ok(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** The floor: a bare Express 5 JSON route on loopback, parsing the same bodies and answering a small JSON object. */
async function listenBare(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  app.post("/bare", express.json(), (req, res) => {
    res.json({ ok: true, question: (req.body as { question?: unknown }).question });
  });
  const server: Server = await new Promise((ok) => {
    const s = app.listen(0, "127.0.0.1", () => ok(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** `npm start` as a child process on a free port over the bench's index; resolves once it logs its URL. */
async function startServerProcess(env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(join(root, "node_modules/.bin/tsx"), [join(root, "server/start-server.ts")], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: "0",
      LOG_LEVEL: "info",
      DOCS_DIR: join(root, "docs-corpus"),
      VECTORSTORE_DIR: join(work, "store"),
      RATE_LIMIT_PER_MIN: "0",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(log);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${log}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

async function askJson(url: string, question: string): Promise<{ status: number; found: boolean }> {
  const res = await fetch(`${url}/ask`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question }) });
  const body = (await res.json()) as { found?: boolean };
  return { status: res.status, found: body.found === true };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ms = (x: number) => x.toFixed(1);
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

try {
  // ---- 1. extractive load ----
  const offline = configFor({});
  const kb = await KnowledgeBase.open(offline);
  const ingest = await kb.ingest();
  const server = await listen(offline, kb);
  let found = 0;
  // Warm-up: jieba, the query path and V8 see every question once before the clock starts.
  for (let round = 0; round < 3; round++) {
    for (const q of QUESTIONS) {
      const r = await askJson(server.url, q);
      if (r.status !== 200) throw new Error(`warm-up: ${q} → HTTP ${r.status}`);
      if (round === 0 && r.found) found++;
    }
  }
  console.error(`Load: ${CONNECTIONS} connections, ${SECONDS} s, ${QUESTIONS.length} questions (${found} found) over ${ingest.chunks} chunks…`);
  // Each connection walks the rotation in order, so all questions are asked about equally often.
  const requests = QUESTIONS.map((question) => ({
    method: "POST" as const,
    path: "/ask",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question }),
  }));
  // The bare route is loaded for half the time just before /ask and half just after, so a machine that gets busier or
  // quieter during the run (other work on it) moves both sides of the ratio alike.
  const bare = await listenBare();
  const bareRequests = requests.map((r) => ({ ...r, path: "/bare" }));
  await autocannon({ url: bare.url, connections: 1, amount: 200, workers: 1, requests: bareRequests }); // warm-up
  const bareRun = () => autocannon({ url: bare.url, connections: CONNECTIONS, duration: SECONDS / 2, workers: 1, requests: bareRequests });
  const bareBefore = await bareRun();
  const load = await autocannon({ url: server.url, connections: CONNECTIONS, duration: SECONDS, workers: 1, requests });
  const bareAfter = await bareRun();
  await bare.close();
  // One connection: the per-request service time with no queueing, to read the 16-connection figures against.
  const single = await autocannon({ url: server.url, connections: 1, duration: SINGLE_SECONDS, workers: 1, requests });
  await server.close();

  // ---- 1b. the same load against `npm start` as a separate process with WEB_CONCURRENCY=2 (one worker per core) ----
  const cluster = await startServerProcess({ WEB_CONCURRENCY: "2" });
  const clusterLoad = await autocannon({ url: cluster.url, connections: CONNECTIONS, duration: SECONDS, workers: 1, requests });
  await cluster.stop();

  // ---- 2. time to first token in LLM mode ----
  const fake = await startFakeOpenAI({
    firstTokenDelayMs: FIRST_TOKEN_DELAY_MS,
    chatReply: () => ({
      content: "LLaMA-2 models are trained with a 4k context length [1].",
      tokens: ["LLaMA-2", " models are trained with a 4k context length [1]."],
    }),
  });
  const llmServer = await listen(
    configFor({ LLM_PROVIDER: "openai-compatible", LLM_BASE_URL: fake.url, LLM_API_KEY: "bench-key", LLM_MODEL: "fake-chat" }),
    kb,
  );

  /** ms from sending POST /ask until the first `token` event is read; the answer must have come from the model. */
  async function appTtft(question: string): Promise<number> {
    const t0 = performance.now();
    const res = await fetch(`${llmServer.url}/ask`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ question, stream: true }),
    });
    const events = await readSse(res);
    const first = events.find((e) => e.event === "token");
    const done = events.find((e) => e.event === "done")?.data as { found?: boolean } | undefined;
    if (!first || done?.found !== true) throw new Error(`no model answer for: ${question} (${events.map((e) => e.event).join(",")})`);
    return first.at - t0;
  }

  /** ms from sending a streaming chat request straight to the fake until its first content delta is read. */
  async function directTtft(): Promise<number> {
    const t0 = performance.now();
    const res = await fetch(`${fake.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer bench-key" },
      body: JSON.stringify({ model: "fake-chat", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const events = await readSse(res);
    const first = events.find((e) => {
      const d = e.data as { choices?: { delta?: { content?: string } }[] };
      return typeof d === "object" && d !== null && (d.choices?.[0]?.delta?.content ?? "") !== "";
    });
    if (!first) throw new Error("the fake sent no content");
    return first.at - t0;
  }

  // Warm-up: the first model call loads LangChain and the OpenAI client.
  const usable: string[] = [];
  for (const q of QUESTIONS) {
    const r = await askJson(llmServer.url, q);
    if (r.found) usable.push(q);
  }
  if (usable.length === 0) throw new Error("no question reached the model");
  for (let i = 0; i < 3; i++) {
    await appTtft(usable[i % usable.length] ?? "");
    await directTtft();
  }
  console.error(`TTFT: ${TTFT_RUNS} sequential requests, first-token delay ${FIRST_TOKEN_DELAY_MS} ms…`);
  const app: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < TTFT_RUNS; i++) {
    app.push(await appTtft(usable[i % usable.length] ?? ""));
    direct.push(await directTtft());
  }
  await llmServer.close();
  await fake.close();

  const overhead = sorted(app.map((t) => t - FIRST_TOKEN_DELAY_MS));
  const directOverhead = sorted(direct.map((t) => t - FIRST_TOKEN_DELAY_MS));
  const appOverDirect = percentile(overhead, 50) - percentile(directOverhead, 50);

  const result = {
    date: new Date().toISOString().slice(0, 10),
    load: {
      connections: CONNECTIONS,
      seconds: SECONDS,
      questions: QUESTIONS.length,
      found,
      requests: load.requests.total,
      requestsPerSecond: load.requests.average,
      latencyMs: { p50: load.latency.p50, p90: load.latency.p90, p99: load.latency.p99, max: load.latency.max },
      errors: load.errors,
      timeouts: load.timeouts,
      non2xx: load.non2xx,
    },
    bare: {
      requestsPerSecond: (bareBefore.requests.average + bareAfter.requests.average) / 2,
      before: bareBefore.requests.average,
      after: bareAfter.requests.average,
      latencyMs: { p50: Math.max(bareBefore.latency.p50, bareAfter.latency.p50), p99: Math.max(bareBefore.latency.p99, bareAfter.latency.p99) },
      errors: bareBefore.errors + bareBefore.timeouts + bareBefore.non2xx + bareAfter.errors + bareAfter.timeouts + bareAfter.non2xx,
    },
    askOverBare: round2((2 * load.requests.average) / (bareBefore.requests.average + bareAfter.requests.average)),
    webConcurrency2: {
      requests: clusterLoad.requests.total,
      requestsPerSecond: clusterLoad.requests.average,
      latencyMs: { p50: clusterLoad.latency.p50, p90: clusterLoad.latency.p90, p99: clusterLoad.latency.p99 },
      errors: clusterLoad.errors + clusterLoad.timeouts + clusterLoad.non2xx,
    },
    singleConnection: {
      seconds: SINGLE_SECONDS,
      requestsPerSecond: single.requests.average,
      latencyMs: { p50: single.latency.p50, p99: single.latency.p99 },
      errors: single.errors + single.timeouts + single.non2xx,
    },
    ttft: {
      runs: TTFT_RUNS,
      firstTokenDelayMs: FIRST_TOKEN_DELAY_MS,
      overheadMs: { p50: round1(percentile(overhead, 50)), p90: round1(percentile(overhead, 90)), max: round1(overhead.at(-1) ?? 0) },
      directOverheadMs: { p50: round1(percentile(directOverhead, 50)), p90: round1(percentile(directOverhead, 90)) },
    },
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/ask.json"), `${JSON.stringify(result, null, 2)}\n`);

  const l = result.load;
  const t = result.ttft;
  const s1 = result.singleConnection;
  const w2 = result.webConcurrency2;
  const b = result.bare;
  const ok = (pass: boolean) => (pass ? "✓" : "✗");
  const table = [
    `## /ask benchmark (${result.date})`,
    "",
    "Command: `npm run bench:ask` (2-core machine; app, load generator and fake upstream in one process, loopback only).",
    `Load: extractive mode over docs-corpus (${ingest.files} files, ${ingest.chunks} chunks), POST /ask rotating ${l.questions} survey questions (${l.found} answered, the rest refused), ${l.connections} connections for ${l.seconds} s with autocannon (in a worker thread).`,
    "Bare: the same load to a bare Express 5 route in the same process (`app.post('/bare', express.json(), (req, res) => res.json({ ok: true, question }))`), half the time just before /ask and half just after: what this machine gives any Express JSON endpoint.",
    `TTFT: LLM mode against the fake OpenAI-compatible upstream sending its first token ${t.firstTokenDelayMs} ms after the request; ${t.runs} sequential streaming requests; overhead = first SSE \`token\` event seen by the HTTP client − ${t.firstTokenDelayMs} ms.`,
    "",
    "| measure | value | target | |",
    "| --- | --- | --- | --- |",
    `| bare Express 5 JSON route: throughput (before / after /ask), latency p50 / p99, errors | ${b.requestsPerSecond.toFixed(0)} req/s (${b.before.toFixed(0)} / ${b.after.toFixed(0)}), ${b.latencyMs.p50} / ${b.latencyMs.p99} ms, ${b.errors} | | |`,
    `| /ask throughput | ${l.requestsPerSecond.toFixed(0)} req/s (${l.requests} requests) | | |`,
    `| /ask throughput ÷ bare | ${result.askOverBare.toFixed(2)} × | ≥ ${TARGETS.bareRatio} × | ${ok(result.askOverBare >= TARGETS.bareRatio)} |`,
    `| /ask latency p50 | ${l.latencyMs.p50} ms | ≤ ${TARGETS.p50Ms} ms | ${ok(l.latencyMs.p50 <= TARGETS.p50Ms)} |`,
    `| /ask latency p90 | ${l.latencyMs.p90} ms | | |`,
    `| /ask latency p99 | ${l.latencyMs.p99} ms | ≤ ${TARGETS.p99Ms} ms | ${ok(l.latencyMs.p99 <= TARGETS.p99Ms)} |`,
    `| errors / timeouts / non-2xx | ${l.errors} / ${l.timeouts} / ${l.non2xx} | 0 | ${ok(l.errors + l.timeouts + l.non2xx === 0)} |`,
    `| 1 connection (${s1.seconds} s): throughput, latency p50 / p99, errors | ${s1.requestsPerSecond.toFixed(0)} req/s, ${s1.latencyMs.p50} / ${s1.latencyMs.p99} ms, ${s1.errors} | | |`,
    `| \`WEB_CONCURRENCY=2 npm start\` (separate process, 2 workers), ${l.connections} connections: throughput | ${w2.requestsPerSecond.toFixed(0)} req/s (${w2.requests} requests) | | |`,
    `| same: latency p50 / p90 / p99 | ${w2.latencyMs.p50} / ${w2.latencyMs.p90} / ${w2.latencyMs.p99} ms | ≤ ${TARGETS.p50Ms} / – / ≤ ${TARGETS.p99Ms} ms | ${ok(w2.latencyMs.p50 <= TARGETS.p50Ms && w2.latencyMs.p99 <= TARGETS.p99Ms)} |`,
    `| same: errors / timeouts / non-2xx | ${w2.errors} | 0 | ${ok(w2.errors === 0)} |`,
    `| TTFT overhead p50 | ${ms(t.overheadMs.p50)} ms | ≤ ${TARGETS.ttftOverheadMs} ms | ${ok(t.overheadMs.p50 <= TARGETS.ttftOverheadMs)} |`,
    `| TTFT overhead p90 | ${ms(t.overheadMs.p90)} ms | ≤ ${TARGETS.ttftOverheadMs} ms | ${ok(t.overheadMs.p90 <= TARGETS.ttftOverheadMs)} |`,
    `| same, client straight to the fake (floor), p50 / p90 | ${ms(t.directOverheadMs.p50)} / ${ms(t.directOverheadMs.p90)} ms | | |`,
    `| app's share of TTFT (p50 overhead − floor p50) | ${ms(appOverDirect)} ms | | |`,
    "",
    // Closed-loop load on one event loop: every connection waits for the requests ahead of it (Little's law).
    `Reading: with ${l.connections} connections always busy, a request queues behind the others on the server's one event loop, so latency ≈ connections ÷ throughput (${l.connections} ÷ ${l.requestsPerSecond.toFixed(0)}/s ≈ ${((l.connections / l.requestsPerSecond) * 1000).toFixed(0)} ms); the 1-connection row is the service time of one request.`,
    "",
  ].join("\n");
  console.log(table);

  const mdPath = join(root, "docs/benchmarks.md");
  const previous = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : "# Benchmarks\n\n";
  const marker = /<!-- ask:start -->[\s\S]*<!-- ask:end -->/;
  const block = `<!-- ask:start -->\n${table}<!-- ask:end -->`;
  writeFileSync(mdPath, marker.test(previous) ? previous.replace(marker, block) : `${previous.trimEnd()}\n\n${block}\n`);
  console.log("Wrote bench/results/ask.json and docs/benchmarks.md");
} finally {
  rmSync(work, { recursive: true, force: true });
}
