import { describe, expect, it, vi } from "vitest";
import { buildHistory, clip, ConversationsStore, type KeyValueStorage, titleFor } from "../../../server/public/src/conversations-store.ts";
import type { StoredMessage } from "../../../server/public/src/types.ts";

const KEY = "kb-assistant.conversations.v1";

function memoryStorage(initial?: string): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>(initial === undefined ? [] : [[KEY, initial]]);
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

const exchange = (i: number, state: StoredMessage["state"] = "done", answer = `answer ${i}`): StoredMessage[] => [
  { id: `q${i}`, role: "user", content: `question ${i}` },
  { id: `a${i}`, role: "assistant", content: answer, state },
];

describe("buildHistory", () => {
  it("sends completed exchanges as user/assistant turns, including stopped answers with text", () => {
    const messages = [...exchange(1), ...exchange(2, "stopped", "partial"), ...exchange(3, "error", ""), ...exchange(4, "stopped", "  ")];
    expect(buildHistory(messages)).toEqual([
      { role: "user", content: "question 1" },
      { role: "assistant", content: "answer 1" },
      { role: "user", content: "question 2" },
      { role: "assistant", content: "partial" },
    ]);
  });

  it("keeps the 20 most recent turns (10 exchanges)", () => {
    const history = buildHistory(Array.from({ length: 15 }, (_, i) => exchange(i + 1)).flat());
    expect(history).toHaveLength(20);
    expect(history[0]).toEqual({ role: "user", content: "question 6" });
    expect(history.at(-1)).toEqual({ role: "assistant", content: "answer 15" });
  });

  it("clips long turns to 8000 characters without leaving half a surrogate pair", () => {
    const long = `${"a".repeat(7999)}😀tail`;
    expect(clip(long)).toBe("a".repeat(7999));
    expect(clip("x".repeat(9000))).toHaveLength(8000);
    expect(buildHistory(exchange(1, "done", "长".repeat(9000)))[1]?.content).toHaveLength(8000);
  });
});

describe("titleFor", () => {
  it("is the first question on one line, shortened", () => {
    expect(titleFor("  星河-7B\n的上下文  ")).toBe("星河-7B 的上下文");
    expect(Array.from(titleFor("问".repeat(100)))).toHaveLength(48);
  });
});

describe("ConversationsStore", () => {
  it("survives corrupt or foreign data in storage by starting fresh", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    for (const bad of ["{not json", "null", "[]", '"text"', '{"conversations": 5}']) {
      const store = new ConversationsStore(memoryStorage(bad));
      expect(store.list()).toEqual([]);
      expect(store.active().messages).toEqual([]);
    }
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it("drops malformed conversations and messages, and keeps interrupted answers as stopped", () => {
    const stored = JSON.stringify({
      activeId: "c1",
      conversations: [
        {
          id: "c1",
          title: "t",
          createdAt: 1,
          updatedAt: 2,
          messages: [{ id: "m1", role: "user", content: "q" }, { id: "m2", role: "assistant", content: "a", state: "streaming" }, { role: "hacker" }, 7],
        },
        { id: 5, messages: [] },
        "junk",
      ],
    });
    const store = new ConversationsStore(memoryStorage(stored));
    expect(store.list()).toHaveLength(1);
    expect(store.active().messages.map((m) => [m.id, m.state])).toEqual([
      ["m1", undefined],
      ["m2", "stopped"],
    ]);
  });

  it("persists, lists the most recent first, reuses an empty chat and removes chats", () => {
    const storage = memoryStorage();
    const store = new ConversationsStore(storage);
    const first = store.active();
    first.messages.push(...exchange(1));
    store.touch(first);
    store.save();
    const second = store.create();
    expect(store.create()).toBe(second); // an empty chat is reused, not piled up
    expect(store.list().map((c) => c.id)).toEqual([second.id, first.id]);

    const reloaded = new ConversationsStore(storage);
    expect(reloaded.list()).toHaveLength(2);
    expect(reloaded.active().id).toBe(second.id);
    expect(reloaded.get(first.id)?.messages).toHaveLength(2);

    reloaded.remove(second.id);
    expect(reloaded.active().id).toBe(first.id);
    expect(new ConversationsStore(storage).list().map((c) => c.id)).toEqual([first.id]);
  });

  it("keeps working when storage refuses to save (quota, private mode)", () => {
    const storage: KeyValueStorage = {
      getItem: () => null,
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
    };
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const store = new ConversationsStore(storage);
    store.active().messages.push(...exchange(1));
    expect(() => store.save()).not.toThrow();
    expect(store.active().messages).toHaveLength(2);
    warn.mockRestore();
  });
});
