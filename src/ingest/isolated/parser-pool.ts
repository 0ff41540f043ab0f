import { Worker } from "node:worker_threads";
import type { ParsedDocument } from "../document.ts";
import { AppError, ParseError } from "../../errors/app-error.ts";
import { ParserLimitError } from "./parser-limit-error.ts";
import type { ParseKind, ParseReply, ParseRequest, ReadyMessage, WorkerError, ParseWorkerData } from "./protocol.ts";

export interface ParserLimits {
  /** Wall-clock time one file may take in a worker before the worker is terminated. */
  timeoutMs: number;
  /**
   * V8 old-generation heap of a worker; past it V8 stops the worker (ERR_WORKER_OUT_OF_MEMORY). Memory outside the
   * heap (ArrayBuffers) is bounded too, roughly: the process RSS may grow by twice this much while one file parses.
   */
  maxMemoryMb: number;
}

export interface ParserPoolOptions extends ParserLimits {
  /** Worker threads, created on demand and reused; files queue for a free one. 1–2 makes sense (default 1). */
  size?: number;
  /** How long a new worker may take to load its parsers before the file it was started for fails (default 30 s). */
  startTimeoutMs?: number;
  /** An idle worker is ended after this long, returning its heap to the system (default 30 s). */
  idleTimeoutMs?: number;
  /** Tests only: see ParseWorkerData.testHooks. */
  testHooks?: boolean;
}

interface Job {
  req: ParseRequest;
  resolve: (doc: ParsedDocument) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
  /** Samples the process RSS while a file is parsed (memory outside the V8 heap; see dispatch). */
  watch?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  /** Set when the pool itself ended the worker (timeout, close), so its exit is not reported as a crash. */
  ended?: boolean;
  /** The error event that preceded the exit, if any (ERR_WORKER_OUT_OF_MEMORY, an uncaught error). */
  error?: Error;
}

const WORKER_URL = new URL("./parse-worker.mjs", import.meta.url);

/** How often the RSS watchdog samples during a parse. */
const RSS_SAMPLE_MS = 50;

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * A small pool of worker threads that run the PDF and HTML loaders away from the main thread, each worker under a V8
 * heap limit and each file under a deadline. A file that hangs, blows the heap or kills its worker fails alone (a
 * ParserLimitError naming it); the worker is discarded and the next file gets a fresh one. Idle workers are unref'd,
 * so they never keep the process alive; a worker with a file in progress is ref'd, so the process waits for it.
 */
export class ParserPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly size: number;
  private nextId = 1;

  constructor(private readonly opts: ParserPoolOptions) {
    this.size = Math.max(1, Math.min(opts.size ?? 1, 8));
  }

  get limits(): ParserLimits {
    return { timeoutMs: this.opts.timeoutMs, maxMemoryMb: this.opts.maxMemoryMb };
  }

  /** Workers alive right now (tests check that none is left behind). */
  get workerCount(): number {
    return this.slots.length;
  }

  /** Parses `data` (copied; the caller's buffer stays intact) with the loader for `kind`, in a worker. */
  parse(kind: ParseKind, source: string, data: Uint8Array): Promise<ParsedDocument> {
    // A copy with an ArrayBuffer of its own, transferred to the worker without a second copy.
    const bytes = new Uint8Array(data);
    return new Promise<ParsedDocument>((resolve, reject) => {
      this.queue.push({ req: { id: this.nextId++, kind, source, bytes }, resolve, reject });
      this.pump();
    });
  }

  /** Terminates every worker; files queued or in progress fail. The pool starts new workers if used again. */
  async close(): Promise<void> {
    const closed = new AppError("INGEST_FAILED", "the parser pool was closed", { status: 503 });
    for (const job of this.queue.splice(0)) job.reject(closed);
    await Promise.all(
      [...this.slots].map((slot) => {
        if (slot.job) this.finish(slot, closed);
        return this.end(slot);
      }),
    );
  }

  private pump(): void {
    for (;;) {
      const job = this.queue[0];
      if (!job) return;
      const free = this.slots.find((s) => s.ready && !s.job);
      if (free) {
        this.queue.shift();
        this.dispatch(free, job);
        continue;
      }
      // No idle worker: start one per waiting file, up to the pool size. A starting worker pumps when it is ready.
      const starting = this.slots.filter((s) => !s.ready).length;
      if (starting >= this.queue.length || this.slots.length >= this.size) return;
      this.spawn();
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      workerData: { testHooks: this.opts.testHooks === true } satisfies ParseWorkerData,
      // Nothing inherited from the parent's command line: parse-worker.mjs sets up TypeScript itself, the same way
      // under `tsx` and under vitest.
      execArgv: [],
      resourceLimits: {
        maxOldGenerationSizeMb: this.opts.maxMemoryMb,
        // pdf.js allocates many short-lived objects; a young generation of 1/8 of the heap (16–64 MB) keeps scavenges cheap.
        maxYoungGenerationSizeMb: Math.max(16, Math.min(64, Math.round(this.opts.maxMemoryMb / 8))),
      },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false };
    this.slots.push(slot);
    const startTimeoutMs = this.opts.startTimeoutMs ?? 30_000;
    slot.timer = setTimeout(() => {
      slot.error = new Error(`the parser worker did not start within ${seconds(startTimeoutMs)}`);
      void this.end(slot, false);
    }, startTimeoutMs);
    worker.on("message", (msg: ParseReply | ReadyMessage) => {
      if ("ready" in msg) {
        clearTimeout(slot.timer);
        slot.ready = true;
        this.idle(slot);
        this.pump();
        return;
      }
      const job = slot.job;
      if (!job || job.req.id !== msg.id) return;
      this.finish(slot, msg.ok ? msg.doc : this.fromWorker(job.req.source, msg.error));
      this.pump();
    });
    worker.on("error", (err) => {
      slot.error ??= err;
    });
    worker.on("exit", (code) => this.onExit(slot, code));
    return slot;
  }

  private dispatch(slot: Slot, job: Job): void {
    clearTimeout(slot.idleTimer);
    slot.job = job;
    slot.worker.ref();
    const { timeoutMs } = this.opts;
    slot.timer = setTimeout(() => {
      if (slot.job !== job) return;
      slot.ended = true;
      this.finish(
        slot,
        new ParserLimitError(job.req.source, "PARSE_TIMEOUT", `parsing took longer than ${seconds(timeoutMs)} and was stopped (PARSE_TIMEOUT_MS)`),
      );
      void this.end(slot);
    }, timeoutMs);
    // resourceLimits caps the worker's V8 heap only. ArrayBuffers live outside it, and pdf.js decodes streams into
    // them: a 1 MB FlateDecode bomb took the process to 2 GB RSS under a 128 MB heap limit. So the main thread also
    // watches the process RSS (the worker shares the process) and stops the worker once it has grown by more than
    // twice the heap limit during this file: room for the heap itself plus as much again in buffers. (With size > 1 the
    // workers' growth adds up in the one RSS; the default pool has one worker.)
    const rssBudget = 2 * this.opts.maxMemoryMb * 1024 * 1024;
    const rssStart = process.memoryUsage.rss();
    slot.watch = setInterval(() => {
      if (slot.job !== job || process.memoryUsage.rss() - rssStart <= rssBudget) return;
      slot.ended = true;
      this.finish(slot, this.outOfMemory(job.req.source));
      void this.end(slot);
    }, RSS_SAMPLE_MS);
    slot.watch.unref();
    slot.worker.postMessage(job.req, [job.req.bytes.buffer as ArrayBuffer]);
  }

  /** Settles the slot's job with a document or an error and marks the worker idle. */
  private finish(slot: Slot, outcome: ParsedDocument | Error): void {
    const job = slot.job;
    clearTimeout(slot.timer);
    clearInterval(slot.watch);
    slot.job = undefined;
    if (!slot.ended) this.idle(slot);
    if (!job) return;
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }

  /** Lets the process exit while this worker waits for work, and ends the worker if it waits too long. */
  private idle(slot: Slot): void {
    slot.worker.unref();
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (!slot.job) void this.end(slot);
    }, this.opts.idleTimeoutMs ?? 30_000);
    slot.idleTimer.unref();
  }

  /** Removes the slot and terminates its worker. `expected` false: report the exit as a crash (start timeout). */
  private async end(slot: Slot, expected = true): Promise<void> {
    if (expected) slot.ended = true;
    clearTimeout(slot.timer);
    clearTimeout(slot.idleTimer);
    clearInterval(slot.watch);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    await slot.worker.terminate().catch(() => undefined);
    this.pump();
  }

  private onExit(slot: Slot, exitCode: number): void {
    clearTimeout(slot.timer);
    clearTimeout(slot.idleTimer);
    clearInterval(slot.watch);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const unexpected = !slot.ended;
    slot.ended = true;
    if (unexpected) {
      const err = slot.error as (Error & { code?: string }) | undefined;
      if (slot.job) {
        const { source } = slot.job.req;
        const failure =
          err?.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? this.outOfMemory(source, err)
            : new ParserLimitError(source, "PARSE_CRASHED", `the parser stopped unexpectedly (${err?.message ?? `exit code ${exitCode}`})`, err);
        this.finish(slot, failure);
      } else if (!slot.ready) {
        // The worker could not start: fail the next waiting file (not all of them; the next worker may start fine).
        const job = this.queue.shift();
        const why =
          err?.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? `it needs more than PARSE_MAX_MEMORY_MB=${this.opts.maxMemoryMb}`
            : (err?.message ?? `exit code ${exitCode}`);
        job?.reject(new ParserLimitError(job.req.source, "PARSE_CRASHED", `the parser worker could not start (${why})`, err));
      }
    }
    this.pump();
  }

  private outOfMemory(source: string, cause?: unknown): ParserLimitError {
    const reason = `parsing needed more than ${this.opts.maxMemoryMb} MB of memory and was stopped (PARSE_MAX_MEMORY_MB)`;
    return new ParserLimitError(source, "PARSE_OUT_OF_MEMORY", reason, cause);
  }

  /** An error the loader threw in the worker, as the AppError it was. */
  private fromWorker(source: string, e: WorkerError): Error {
    if (e.code === "PARSE_FAILED") {
      // ParseError prefixes the source itself; the worker's message already carries that prefix.
      const prefix = `${source}: `;
      return new ParseError(source, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
    }
    if (e.code)
      return new AppError(e.code as AppError["code"], e.message, { status: e.status ?? 500, ...(e.expose === undefined ? {} : { expose: e.expose }) });
    return new ParseError(source, `could not be parsed (${e.name}: ${e.message})`);
  }
}
