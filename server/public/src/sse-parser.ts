/** One Server-Sent Event: its type (`message` when the frame names none) and its data lines joined by "\n". */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * An incremental parser for the `text/event-stream` format: feed it decoded text as it arrives, in chunks cut
 * anywhere (mid-line, mid-field, between "\r" and "\n"), and it returns the events completed so far.
 */
export class SseParser {
  private buffer = "";
  private eventType = "";
  private data: string[] = [];

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== "\n" && ch !== "\r") continue;
      // A "\r" at the very end may be the first half of "\r\n": wait for the next chunk to decide.
      if (ch === "\r" && i === this.buffer.length - 1) break;
      const line = this.buffer.slice(start, i);
      if (ch === "\r" && this.buffer[i + 1] === "\n") i++;
      start = i + 1;
      this.line(line, out);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** The stream ended: a last line without its newline, and an event without its blank line, still count. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    const rest = this.buffer.replace(/\r$/, "");
    this.buffer = "";
    if (rest) this.line(rest, out);
    this.line("", out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === "") {
      if (this.data.length > 0) out.push({ event: this.eventType || "message", data: this.data.join("\n") });
      this.eventType = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return; // a comment (the server's keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") this.data.push(value);
  }
}
