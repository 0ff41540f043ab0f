import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

/**
 * `npm run bench:load` / `npm run bench:soak` (= `bench:load -- --soak`): the HTTP server under sustained load, as a
 * separate process started exactly as users start it (`tsx server/start-server.ts`), extractive mode over docs-corpus
 * with a temp index (the server builds it at start-up).
 *
 * - load: POST /ask (JSON, rotating on-topic Chinese/English questions plus a few off-topic ones), then POST /search with
 *   the same strings, each at 50 connections for 30 s (LOAD_CONNECTIONS / LOAD_SECONDS override). Per endpoint:
 *   throughput, p50/p99, non-2xx, socket errors/timeouts, the server's RSS before/peak/after. Afterwards /health must
 *   answer 200 and the server process must still be alive.
 * - soak: mixed /ask + /search at 16 connections (SOAK_CONNECTIONS) for 5 min (SOAK_SECONDS); the server's RSS is
 *   sampled every second; after a warm-up (SOAK_WARMUP_SECONDS, 30) the least-squares slope and the growth of the
 *   median of the last 30 s over the median of the first 30 s are reported. Target: growth < 10 %.
 *
 * RSS is the server's own: VmRSS of the Node process that runs start-server.ts, read from /proc/<pid>/status. Note that
 * `node_modules/.bin/tsx` is a small launcher that spawns that process as its child; the launcher's pid is not the
 * server's. autocannon runs in a worker thread of this process, so the bench's main thread stays free to sample on
 * time; on a 2-core machine the load generator and the server still compete for the same cores.
 *
 * Prints Markdown and replaces the <!-- load:start --> or <!-- soak:start --> block of docs/benchmarks.md.
 * Linux only (/proc).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOAK = process.argv.includes("--soak");
const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const LOAD_CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 50);
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const SOAK_CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 16);
const SOAK_WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? 30);
const WINDOW_SECONDS = 30;
const TARGETS = { errors: 0, soakGrowthPct: 10 };
/** Other work on the shared machine competes for the 2 cores: the 1-minute load average at the start and at the end. */
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0] ?? "?";
const LOADAVG_START = loadavg();
const machine = () =>
  `2-core shared, noisy machine, 1-min load average ${LOADAVG_START} at the start and ${loadavg()} at the end; server and load generator (autocannon in a worker thread of the bench process) on the same machine, loopback`;

// ---- questions ----
const ON_TOPIC: string[] = readFileSync(join(root, "bench/data/on-topic-survey.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { question: string }).question);
const OFF_TOPIC_ALL = readFileSync(join(root, "bench/data/off-topic.txt"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter(Boolean);
/** Two Chinese and two English off-topic questions: the relevance gate's refusal path is exercised too. */
const OFF_TOPIC = [
  ...OFF_TOPIC_ALL.filter((q) => /\p{Script=Han}/u.test(q)).slice(0, 2),
  ...OFF_TOPIC_ALL.filter((q) => !/\p{Script=Han}/u.test(q)).slice(0, 2),
];
const QUESTIONS = [...ON_TOPIC, ...OFF_TOPIC];
const ENGLISH = QUESTIONS.filter((q) => !/\p{Script=Han}/u.test(q)).length;

const json = { "content-type": "application/json" };
const askRequests = QUESTIONS.map((question) => ({ method: "POST" as const, path: "/ask", headers: json, body: JSON.stringify({ question }) }));
const searchRequests = QUESTIONS.map((query) => ({ method: "POST" as const, path: "/search", headers: json, body: JSON.stringify({ query }) }));
/** Soak: every connection alternates /ask and /search over the whole rotation. */
const mixedRequests = askRequests.flatMap((a, i) => [a, searchRequests[i] ?? a]);

// ---- the server process ----
interface ServerProcess {
  launcher: ChildProcessByStdio<null, null, Readable>;
  /** The Node process running start-server.ts (the launcher's child). */
  pid: number;
  url: string;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  warnings: number;
  logTail: () => string;
  stop: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** kB → MB of VmRSS, or undefined once the process is gone. */
function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The TCP port `pid` listens on: its socket inodes matched against LISTEN rows of /proc/net/tcp{,6}. */
function listeningPort(pid: number): number | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => x !== undefined),
    );
  } catch {
    return undefined;
  }
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f[3] === "0A" && f[9] !== undefined && inodes.has(f[9])) return Number.parseInt(f[1]?.split(":")[1] ?? "", 16);
    }
  }
  return undefined;
}

/**
 * `npm start` as users run it, on a free port (PORT=0), LOG_LEVEL=warn: the "listening" line is not logged at that
 * level, so the port is read from /proc, then /health is polled until the index is ready.
 */
async function startServer(storeDir: string): Promise<ServerProcess> {
  const launcher = spawn(join(root, "node_modules/.bin/tsx"), [join(root, "server/start-server.ts")], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: "0",
      DOCS_DIR: join(root, "docs-corpus"),
      VECTORSTORE_DIR: storeDir,
      LLM_PROVIDER: "none",
      LOG_LEVEL: "warn",
      // Per-client rate limiting off: one client (this bench) is the whole load.
      RATE_LIMIT_PER_MIN: "0",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const lines: string[] = [];
  let partial = "";
  const server: ServerProcess = {
    launcher,
    pid: 0,
    url: "",
    exit: undefined,
    warnings: 0,
    logTail: () => [...lines, partial].join("\n").trim(),
    stop: async () => {
      if (server.exit) return;
      const gone = new Promise<void>((ok) => launcher.once("exit", () => ok()));
      launcher.kill("SIGTERM");
      const t = setTimeout(() => {
        for (const p of [server.pid, launcher.pid]) {
          try {
            if (p) process.kill(p, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }, 15_000);
      await gone;
      clearTimeout(t);
    },
  };
  launcher.stderr.on("data", (d: Buffer) => {
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop() ?? "";
    for (const l of parts) {
      if (/"level":"(warn|error)"/.test(l) || !l.startsWith("{")) server.warnings++;
      lines.push(l);
      if (lines.length > 50) lines.shift();
    }
  });
  launcher.on("exit", (code, signal) => {
    server.exit = { code, signal };
  });

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exit) throw new Error(`server exited (${server.exit.code ?? server.exit.signal}) during start-up:\n${server.logTail()}`);
    const kids = childrenOf(launcher.pid ?? 0);
    if (!server.pid && kids.length === 1 && kids[0]) server.pid = kids[0];
    const port = server.pid ? listeningPort(server.pid) : undefined;
    if (port) {
      server.url = `http://127.0.0.1:${port}`;
      try {
        const res = await fetch(`${server.url}/health`);
        const body = (await res.json()) as { status?: string };
        if (res.ok && body.status === "ok") return server;
      } catch {
        // not ready yet
      }
    }
    await sleep(100);
  }
  await server.stop();
  throw new Error(`server did not become ready within 60 s:\n${server.logTail()}`);
}

/** RSS of `pid` every `everyMs` (first sample at once); `t` in seconds since start. */
function sampleRss(pid: number, everyMs = 1000) {
  const samples: { t: number; mb: number }[] = [];
  const t0 = performance.now();
  const take = () => {
    const mb = rssMb(pid);
    if (mb !== undefined) samples.push({ t: (performance.now() - t0) / 1000, mb });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

async function post(url: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}${path}`, { method: "POST", headers: json, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** Every question once per round, on both endpoints, sequentially: jieba, the query path and V8 warm up. */
async function warmUp(url: string, rounds: number): Promise<number> {
  let found = 0;
  for (let round = 0; round < rounds; round++) {
    for (const q of QUESTIONS) {
      const res = await fetch(`${url}/ask`, { method: "POST", headers: json, body: JSON.stringify({ question: q }) });
      const body = (await res.json()) as { found?: boolean };
      if (res.status !== 200) throw new Error(`warm-up /ask: ${q} → HTTP ${res.status}`);
      if (round === 0 && body.found === true) found++;
      const s = await post(url, "/search", { query: q });
      if (s !== 200) throw new Error(`warm-up /search: ${q} → HTTP ${s}`);
    }
  }
  return found;
}

async function health(url: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status?: string };
    return { status: res.status, body: body.status ?? "?" };
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}

interface PhaseResult {
  name: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  resets: number;
  rssMb: { before: number; peak: number; after: number };
  samples: { t: number; mb: number }[];
}

async function phase(
  server: ServerProcess,
  name: string,
  requests: autocannon.Request[],
  connections: number,
  seconds: number,
  settleMs = 2000,
): Promise<PhaseResult> {
  console.error(`${name}: ${connections} connections, ${seconds} s…`);
  const before = rssMb(server.pid) ?? Number.NaN;
  const sampler = sampleRss(server.pid);
  // workers: 1 runs autocannon in a worker thread; timeout: a request unanswered for 10 s counts as a timeout.
  const r = await autocannon({ url: server.url, connections, duration: seconds, workers: 1, timeout: 10, requests });
  const samples = sampler.stop();
  await sleep(settleMs);
  const after = rssMb(server.pid) ?? Number.NaN;
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
  return {
    name,
    connections,
    seconds,
    requests: r.requests.total,
    requestsPerSecond: r.requests.average,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    non2xx: r.non2xx,
    statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
    resets: r.resets,
    rssMb: { before, peak: Math.max(before, after, ...samples.map((s) => s.mb)), after },
    samples,
  };
}

// ---- statistics ----
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

/** Least-squares slope of mb over t, in MB per minute. */
function slopePerMinute(samples: { t: number; mb: number }[]): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const mm = samples.reduce((a, s) => a + s.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - mt) * (s.mb - mm);
    den += (s.t - mt) ** 2;
  }
  return (num / den) * 60;
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const ok = (pass: boolean) => (pass ? "✓" : "✗ FAIL");
const date = new Date().toISOString().slice(0, 10);

function replaceBlock(name: string, content: string): void {
  const mdPath = join(root, "docs/benchmarks.md");
  const previous = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : "# Benchmarks\n\n";
  const marker = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  const block = `<!-- ${name}:start -->\n${content}<!-- ${name}:end -->`;
  // A function replacement: the block's text must not be read as `$` patterns.
  writeFileSync(mdPath, marker.test(previous) ? previous.replace(marker, () => block) : `${previous.trimEnd()}\n\n${block}\n`);
}

function writeResult(name: string, result: unknown): void {
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, `bench/results/${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

const work = mkdtempSync(join(tmpdir(), "kb-bench-load-"));
let server: ServerProcess | undefined;
let failed = false;
try {
  const t0 = performance.now();
  server = await startServer(join(work, "store"));
  const startSeconds = (performance.now() - t0) / 1000;
  const idleRss = rssMb(server.pid) ?? Number.NaN;
  const launcherRss = rssMb(server.launcher.pid ?? 0) ?? Number.NaN;
  const found = await warmUp(server.url, 3);
  const status = await fetch(`${server.url}/health`).then((r) => r.json() as Promise<{ index: { documents: number; chunks: number } }>);
  const corpus = `docs-corpus (${status.index.documents} files, ${status.index.chunks} chunks)`;
  const rotation = `${QUESTIONS.length} strings: ${ON_TOPIC.length} on-topic survey questions (${found} answered by /ask) and ${OFF_TOPIC.length} off-topic ones, ${ENGLISH} of them English`;
  console.error(
    `server pid ${server.pid} (launcher ${server.launcher.pid}) at ${server.url}, ready in ${f1(startSeconds)} s, RSS ${f0(idleRss)} MB idle; ${rotation}`,
  );
  const serverNote = `Server: \`tsx server/start-server.ts\` as a child process (PORT=0, LLM_PROVIDER=none — extractive answers, LOG_LEVEL=warn, RATE_LIMIT_PER_MIN=0, one process), index built at start-up over ${corpus}; RSS = VmRSS of the server's Node process (the \`tsx\` launcher in front of it, ${f0(launcherRss)} MB, not counted), sampled every second.`;

  if (!SOAK) {
    // ---- load ----
    const ask = await phase(server, "POST /ask", askRequests, LOAD_CONNECTIONS, LOAD_SECONDS);
    const search = await phase(server, "POST /search", searchRequests, LOAD_CONNECTIONS, LOAD_SECONDS);
    const h = await health(server.url);
    const alive = server.exit === undefined && rssMb(server.pid) !== undefined;
    const phases = [ask, search];
    const bad = phases.reduce((a, p) => a + p.non2xx + p.errors + p.timeouts, 0);
    const pass = bad === TARGETS.errors && alive && h.status === 200;
    failed ||= !pass;
    writeResult("load", {
      date,
      machine: machine(),
      startSeconds,
      idleRssMb: idleRss,
      questions: QUESTIONS.length,
      found,
      phases: phases.map(({ samples, ...p }) => p),
      healthAfter: h,
      serverAlive: alive,
      serverWarnings: server.warnings,
    });
    const codes = (p: PhaseResult) =>
      Object.entries(p.statusCodes)
        .filter(([c]) => !c.startsWith("2"))
        .map(([c, n]) => `${n}×${c}`)
        .join(", ");
    const row = (p: PhaseResult) =>
      `| ${p.name} | ${f0(p.requestsPerSecond)} (${p.requests}) | ${p.latencyMs.p50} / ${p.latencyMs.p99} / ${p.latencyMs.max} | ${p.non2xx}${codes(p) ? ` (${codes(p)})` : ""} | ${p.errors} / ${p.timeouts} | ${f0(p.rssMb.before)} / ${f0(p.rssMb.peak)} / ${f0(p.rssMb.after)} |`;
    const table = [
      `## Load benchmark (${date})`,
      "",
      `Command: \`npm run bench:load\` (${machine()}).`,
      serverNote,
      `Load: autocannon, ${LOAD_CONNECTIONS} connections for ${LOAD_SECONDS} s per endpoint, one endpoint after the other, each connection cycling through ${rotation}; /ask as JSON (not streamed). Warm-up before: every string 3× on both endpoints, sequentially.`,
      "",
      "| endpoint | req/s (requests) | latency p50 / p99 / max, ms | non-2xx | socket errors / timeouts | server RSS before / peak / after, MB |",
      "| --- | --- | --- | --- | --- | --- |",
      row(ask),
      row(search),
      "",
      "| check | result | target | |",
      "| --- | --- | --- | --- |",
      `| errors (non-2xx + socket errors + timeouts), both endpoints | ${bad} | 0 | ${ok(bad === 0)} |`,
      `| server process alive after the run | ${alive ? "yes" : `no (exit ${server.exit?.code ?? server.exit?.signal})`} | yes | ${ok(alive)} |`,
      `| GET /health after the run | ${h.status} ${h.body} | 200 ok | ${ok(h.status === 200)} |`,
      `| warn/error lines logged by the server | ${server.warnings} | | |`,
      `| server RSS idle after start-up (before warm-up) | ${f0(idleRss)} MB | | |`,
      "",
      `Reading: closed-loop load on one event loop, so latency ≈ connections ÷ throughput (${LOAD_CONNECTIONS} ÷ ${f0(ask.requestsPerSecond)}/s ≈ ${f0((LOAD_CONNECTIONS / ask.requestsPerSecond) * 1000)} ms for /ask); the load generator takes part of the second core.`,
      "",
      // Measured: the late connections' first responses arrive ~one loop turn apart; a plain node:http server that burns 2 ms per request shows the same.
      "The max (1–4 s in our runs) is the connection ramp, not a stall: while the busy server works through the requests of the connections it already has, the other connections of the 50 are accepted one at a time between rounds, so the last ones get their first response only after a second or more; every later request of theirs is normal. A bare `node:http` server that spends 2 ms per request shows the same staircase; p99 is not affected.",
      "",
    ].join("\n");
    console.log(table);
    replaceBlock("load", table);
    console.log("Wrote bench/results/load.json and docs/benchmarks.md");
  } else {
    // ---- soak ----
    const soak = await phase(server, "soak: /ask + /search", mixedRequests, SOAK_CONNECTIONS, SOAK_SECONDS, 0);
    const h = await health(server.url);
    const alive = server.exit === undefined && rssMb(server.pid) !== undefined;
    const steady = soak.samples.filter((s) => s.t >= SOAK_WARMUP_SECONDS);
    const end = steady.at(-1)?.t ?? 0;
    const first = steady.filter((s) => s.t < SOAK_WARMUP_SECONDS + WINDOW_SECONDS).map((s) => s.mb);
    const last = steady.filter((s) => s.t > end - WINDOW_SECONDS).map((s) => s.mb);
    const startMb = median(first);
    const endMb = median(last);
    const growthPct = ((endMb - startMb) / startMb) * 100;
    // RSS is a sawtooth (the heap grows between major GCs, then shrinks): a window's minimum is its post-GC floor,
    // the memory actually retained, which is what a leak would raise.
    const floorStart = Math.min(...first);
    const floorEnd = Math.min(...last);
    const floorGrowthPct = ((floorEnd - floorStart) / floorStart) * 100;
    const climbs: number[] = [];
    for (let i = 1; i < soak.samples.length; i++) {
      const [a, b] = [soak.samples[i - 1], soak.samples[i]];
      if (a && b && b.mb > a.mb && b.t > a.t) climbs.push((b.mb - a.mb) / (b.t - a.t));
    }
    const climbMbPerSecond = median(climbs);
    const slope = slopePerMinute(steady);
    const minMb = Math.min(...steady.map((s) => s.mb));
    const maxMb = Math.max(...steady.map((s) => s.mb));
    const bad = soak.non2xx + soak.errors + soak.timeouts;
    const growthOk = growthPct < TARGETS.soakGrowthPct;
    const pass = growthOk && bad === 0 && alive && h.status === 200;
    failed ||= !pass;
    // One RSS figure per 30 s, for the table: the median of each window.
    const trend: string[] = [];
    const floors: string[] = [];
    for (let w = 0; (w + 1) * WINDOW_SECONDS <= end + 1; w++) {
      const win = soak.samples.filter((s) => s.t >= w * WINDOW_SECONDS && s.t < (w + 1) * WINDOW_SECONDS).map((s) => s.mb);
      if (win.length) {
        trend.push(f0(median(win)));
        floors.push(f0(Math.min(...win)));
      }
    }
    writeResult("soak", {
      date,
      machine: machine(),
      idleRssMb: idleRss,
      ...(({ samples, ...p }) => p)(soak),
      warmupSeconds: SOAK_WARMUP_SECONDS,
      windowSeconds: WINDOW_SECONDS,
      startWindowMedianMb: startMb,
      endWindowMedianMb: endMb,
      growthPct,
      startWindowFloorMb: floorStart,
      endWindowFloorMb: floorEnd,
      floorGrowthPct,
      slopeMbPerMinute: slope,
      steadyMinMb: minMb,
      steadyMaxMb: maxMb,
      healthAfter: h,
      serverAlive: alive,
      serverWarnings: server.warnings,
      samples: soak.samples.map((s) => [Number(s.t.toFixed(1)), Number(s.mb.toFixed(1))]),
    });
    const table = [
      `## Soak (${date})`,
      "",
      `Command: \`npm run bench:soak\` (${machine()}).`,
      serverNote,
      `Load: autocannon, ${SOAK_CONNECTIONS} connections for ${SOAK_SECONDS} s, each connection alternating POST /ask (JSON) and POST /search over ${rotation}. RSS growth compares the median of the first ${WINDOW_SECONDS} s after a ${SOAK_WARMUP_SECONDS} s warm-up with the median of the last ${WINDOW_SECONDS} s; the slope is a least-squares fit over every sample after the warm-up.`,
      "",
      "| measure | value | target | |",
      "| --- | --- | --- | --- |",
      `| requests, throughput | ${soak.requests}, ${f0(soak.requestsPerSecond)} req/s | | |`,
      `| latency p50 / p99 / max | ${soak.latencyMs.p50} / ${soak.latencyMs.p99} / ${soak.latencyMs.max} ms | | |`,
      `| non-2xx / socket errors / timeouts | ${soak.non2xx} / ${soak.errors} / ${soak.timeouts} | 0 | ${ok(bad === 0)} |`,
      `| server RSS idle after start-up / before the soak (after warm-up) | ${f0(idleRss)} / ${f0(soak.rssMb.before)} MB | | |`,
      `| server RSS, start window → end window (medians) | ${f1(startMb)} → ${f1(endMb)} MB | | |`,
      `| RSS growth | ${growthPct >= 0 ? "+" : ""}${f1(growthPct)} % | < ${TARGETS.soakGrowthPct} % | ${ok(growthOk)} |`,
      `| RSS slope after warm-up (least squares) | ${slope >= 0 ? "+" : ""}${slope.toFixed(2)} MB/min | | |`,
      `| RSS min / max after warm-up | ${f1(minMb)} / ${f1(maxMb)} MB | | |`,
      `| post-GC floor (window minimum), start → end window | ${f1(floorStart)} → ${f1(floorEnd)} MB (${floorGrowthPct >= 0 ? "+" : ""}${f1(floorGrowthPct)} %) | | |`,
      `| RSS per ${WINDOW_SECONDS} s window from the start, median | ${trend.join(" → ")} MB | | |`,
      `| same, minimum (post-GC floor) | ${floors.join(" → ")} MB | | |`,
      `| server alive, GET /health after | ${alive ? "yes" : "no"}, ${h.status} ${h.body} | yes, 200 | ${ok(alive && h.status === 200)} |`,
      `| warn/error lines logged by the server | ${server.warnings} | | |`,
      "",
      `Reading: RSS is a sawtooth — between major collections it climbs about ${f1(climbMbPerSecond)} MB/s (≈ ${f0((climbMbPerSecond * 1024) / soak.requestsPerSecond)} kB of garbage per request at this rate), then drops back to the floor — so single samples say little; a leak shows as a rising floor and a positive slope across the whole run.`,
      "",
    ].join("\n");
    console.log(table);
    replaceBlock("soak", table);
    console.log("Wrote bench/results/soak.json and docs/benchmarks.md");
  }
  if (server.warnings > 0) console.error(`server log (last lines):\n${server.logTail()}`);
} catch (err) {
  failed = true;
  console.error(err);
  if (server) console.error(`server log (last lines):\n${server.logTail()}`);
} finally {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
}
if (failed) {
  console.error("FAIL: a target was missed (see the tables above)");
  process.exitCode = 1;
}
