import type { Response } from "express";

/**
 * Server-Sent Events on an Express response. Writes after the client has gone are dropped (never "write after end"),
 * and a comment line every 15 s keeps proxies from closing a quiet stream.
 */
export interface SseStream {
  send(event: string, data: unknown): void;
  close(): void;
  readonly closed: boolean;
}

export function openSse(res: Response, heartbeatMs = 15_000): SseStream {
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache, no-transform");
  res.setHeader("Connection", "keep-alive");
  // nginx and similar buffer responses unless told not to; tokens must reach the client as they come.
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  let closed = false;
  const heartbeat = setInterval(() => {
    if (!closed && !res.writableEnded) res.write(": keep-alive\n\n");
  }, heartbeatMs);
  heartbeat.unref();
  const finish = (): void => {
    closed = true;
    clearInterval(heartbeat);
  };
  res.on("close", finish);
  return {
    send(event, data) {
      if (closed || res.writableEnded || res.destroyed) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (!res.writableEnded) res.end();
      finish();
    },
    get closed() {
      return closed;
    },
  };
}

/** Plain `data:` lines (the OpenAI streaming format). */
export function writeData(res: Response, data: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}
