import { parentPort, workerData } from "node:worker_threads";
import type { Loader } from "../document.ts";
import { isAppError } from "../../errors/app-error.ts";
import { htmlLoaderInProcess } from "../loaders/html-loader.ts";
import { pdfLoaderInProcess } from "../loaders/pdf-loader.ts";
import type { ParseKind, ParseReply, ParseRequest, ReadyMessage, WorkerError, ParseWorkerData } from "./protocol.ts";

/**
 * The body of a parse worker (started through parse-worker.mjs, which makes TypeScript loadable here). It runs the
 * in-process loaders one request at a time; the pool on the main thread owns the clock and the memory limit, and
 * terminates this thread when either is exceeded.
 */
const LOADERS: Record<ParseKind, Loader> = { pdf: pdfLoaderInProcess, html: htmlLoaderInProcess };
const options = (workerData ?? {}) as ParseWorkerData;
const port = parentPort;
if (!port) throw new Error("parse-worker.ts must run as a worker thread");

/**
 * Tests only (workerData.testHooks): a file starting with one of these markers stands in for a parser that never
 * returns, or one whose memory grows without bound, so the limits can be tested without a real pathological file.
 */
function testHook(bytes: Uint8Array): void {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 16)).toString("latin1");
  if (head.startsWith("%KB-TEST-HANG")) for (;;);
  if (head.startsWith("%KB-TEST-OOM")) {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array<number>(1 << 20).fill(hoard.length + 0.5));
  }
}

function toWorkerError(err: unknown): WorkerError {
  if (isAppError(err)) return { code: err.code, status: err.status, expose: err.expose, name: err.name, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: "Error", message: String(err) };
}

port.on("message", async (req: ParseRequest) => {
  let reply: ParseReply;
  try {
    if (options.testHooks) testHook(req.bytes);
    const data = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
    const doc = await LOADERS[req.kind].load({ source: req.source, data });
    reply = { id: req.id, ok: true, doc };
  } catch (err) {
    reply = { id: req.id, ok: false, error: toWorkerError(err) };
  }
  port.postMessage(reply);
});

port.postMessage({ ready: true } satisfies ReadyMessage);
