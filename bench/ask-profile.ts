import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { loadConfig } from "../src/config/config.ts";
import { KnowledgeBase } from "../src/knowledge-base/knowledge-base.ts";

/**
 * `npx tsx bench/ask-profile.ts`: where the server's time goes under POST /ask load (extractive, docs-corpus).
 *
 * Builds a temp index, starts `node --import tsx --cpu-prof server/start-server.ts` as a child (so the load generator
 * is not in the profile), drives POST /ask with autocannon like bench:ask (16 connections, the same question rotation),
 * stops the server with SIGTERM (it exits cleanly, so V8 writes the profile) and prints self time by function and by
 * file as shares of busy time (total minus idle). PROFILE_SECONDS (default 15), PROFILE_CONNECTIONS (16), PROFILE_TOP
 * (30) override; PROFILE_KEEP=dir keeps the .cpuprofile there (open it in Chrome DevTools).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 16);
const TOP = Number(process.env.PROFILE_TOP ?? 30);

const QUESTIONS: string[] = readFileSync(join(root, "bench/data/on-topic-survey.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { question: string }).question)
  .slice(0, 10);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const work = mkdtempSync(join(tmpdir(), "kb-ask-profile-"));
const profDir = process.env.PROFILE_KEEP ? resolve(process.env.PROFILE_KEEP) : join(work, "prof");
mkdirSync(profDir, { recursive: true });
const env = {
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/tmp",
  PORT: "0",
  LOG_LEVEL: "info",
  DOCS_DIR: join(root, "docs-corpus"),
  VECTORSTORE_DIR: join(work, "store"),
  RATE_LIMIT_PER_MIN: "0",
  LLM_PROVIDER: "none",
  WATCH_DOCS: "false",
};

try {
  const kb = await KnowledgeBase.open(loadConfig(env));
  const built = await kb.ingest();
  await kb.close();
  const child = spawn(process.execPath, ["--import", "tsx", "--cpu-prof", `--cpu-prof-dir=${profDir}`, join(root, "server/start-server.ts")], {
    cwd: root,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const url = await new Promise<string>((ok, fail) => {
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(log);
      if (m?.[1]) ok(m[1]);
    });
    child.on("exit", (code) => fail(new Error(`server exited with ${code}: ${log}`)));
  });
  const requests = QUESTIONS.map((question) => ({
    method: "POST" as const,
    path: "/ask",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question }),
  }));
  await autocannon({ url, connections: 1, amount: 30, requests }); // warm-up: jieba, V8
  const load = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, workers: 1, requests });
  await new Promise<void>((ok) => {
    child.once("exit", () => ok());
    child.kill("SIGTERM");
  });
  console.log(
    `${built.chunks} chunks, ${CONNECTIONS} connections, ${SECONDS} s: ${load.requests.average.toFixed(0)} req/s, p50 ${load.latency.p50} / p99 ${load.latency.p99} ms, errors ${load.errors + load.timeouts + load.non2xx}`,
  );

  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error("no .cpuprofile written");
  const profile = JSON.parse(readFileSync(join(profDir, file), "utf8")) as CpuProfile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    total += us;
    const { functionName, url: u, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += us;
      continue;
    }
    const where = u.startsWith("file://") ? relative(root, fileURLToPath(u)) : u || "(native)";
    // tsx hands V8 transformed TypeScript, whose line numbers say nothing: only plain JS gets one.
    const fn = `${functionName || "(anonymous)"} ${where}${u && !where.endsWith(".ts") ? `:${lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const group = where.startsWith("node_modules/")
      ? where
          .split("/")
          .slice(0, where.split("/")[1]?.startsWith("@") ? 3 : 2)
          .join("/")
      : where;
    byFile.set(group, (byFile.get(group) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  console.log(`busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s profiled (${((100 * busy) / total).toFixed(0)} %)\n`);
  console.log("self time by function (share of busy time):");
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(us)}  ${fn}`);
  console.log("\nself time by file / package:");
  for (const [f, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(us)}  ${f}`);
  if (process.env.PROFILE_KEEP) console.log(`\nprofile: ${join(profDir, file)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
