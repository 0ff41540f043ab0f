import { describe, expect, it } from "vitest";
import { type SseEvent, SseParser } from "../../../server/public/src/sse-parser.ts";

/** Feeds the text in the given pieces and collects every event, including those completed by the end of the stream. */
function parse(pieces: string[]): SseEvent[] {
  const p = new SseParser();
  return [...pieces.flatMap((piece) => p.push(piece)), ...p.end()];
}

const STREAM =
  'event: sources\ndata: {"sources":[]}\n\n: keep-alive\n\nevent: token\ndata: {"text":"星河"}\n\nevent: token\ndata: {"text":"-7B"}\n\nevent: done\ndata: {"answer":"星河-7B"}\n\n';
const EXPECTED: SseEvent[] = [
  { event: "sources", data: '{"sources":[]}' },
  { event: "token", data: '{"text":"星河"}' },
  { event: "token", data: '{"text":"-7B"}' },
  { event: "done", data: '{"answer":"星河-7B"}' },
];

describe("SseParser", () => {
  it("parses whole frames, skipping comments", () => {
    expect(parse([STREAM])).toEqual(EXPECTED);
  });

  it("gives the same events however the stream is cut (every split point, and one character at a time)", () => {
    for (let i = 0; i <= STREAM.length; i++) expect(parse([STREAM.slice(0, i), STREAM.slice(i)])).toEqual(EXPECTED);
    expect(parse([...STREAM])).toEqual(EXPECTED);
  });

  it("accepts CRLF and CR line ends, even with CRLF split across chunks", () => {
    const crlf = STREAM.replace(/\n/g, "\r\n");
    for (let i = 0; i <= crlf.length; i++) expect(parse([crlf.slice(0, i), crlf.slice(i)])).toEqual(EXPECTED);
    expect(parse([STREAM.replace(/\n/g, "\r")])).toEqual(EXPECTED);
  });

  it("joins multi-line data, defaults the type to message, strips one leading space only", () => {
    expect(parse(["data:a\ndata:  b\n\nevent:x\ndata\n\n"])).toEqual([
      { event: "message", data: "a\n b" },
      { event: "x", data: "" },
    ]);
  });

  it("does not dispatch a frame without data, and resets the event type after each frame", () => {
    expect(parse(["event: lonely\n\ndata: 1\n\n"])).toEqual([{ event: "message", data: "1" }]);
  });

  it("delivers a last frame that lacks its blank line when the stream ends", () => {
    expect(parse(['event: done\ndata: {"a":1}'])).toEqual([{ event: "done", data: '{"a":1}' }]);
    expect(parse(["event: done\ndata: 1\r"])).toEqual([{ event: "done", data: "1" }]);
  });
});
