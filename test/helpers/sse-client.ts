/** One Server-Sent Event as a client saw it; `at` is performance.now() when the bytes carrying it were read. */
export interface SseEvent {
  event: string;
  data: unknown;
  at: number;
}

/** Parses one `event:`/`data:` block; comment lines (`: keep-alive`) and blocks without data are skipped. */
function parseBlock(block: string, at: number): SseEvent | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length === 0) return undefined;
  const raw = data.join("\n");
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Left as text: the caller asserts on it.
  }
  return { event, data: parsed, at };
}

/**
 * Reads an SSE response as it arrives. Timestamps are taken per network read, so tokens that the server flushed
 * separately get distinct times — which is what the streaming tests check. `onEvent` may return true to stop reading
 * (the body is then cancelled, i.e. the client disconnects).
 */
export async function readSse(res: Response, onEvent?: (e: SseEvent) => boolean | undefined): Promise<SseEvent[]> {
  if (!res.body) throw new Error("response has no body");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    const at = performance.now();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut = buffer.indexOf("\n\n");
    while (cut >= 0) {
      const e = parseBlock(buffer.slice(0, cut), at);
      buffer = buffer.slice(cut + 2);
      cut = buffer.indexOf("\n\n");
      if (!e) continue;
      events.push(e);
      if (onEvent?.(e) === true) {
        await reader.cancel();
        return events;
      }
    }
  }
  const tail = parseBlock(buffer, performance.now());
  if (tail) events.push(tail);
  return events;
}
