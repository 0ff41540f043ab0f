import type { ChatTurn, Conversation, Source, StoredMessage } from "./types.ts";

export const MAX_HISTORY_TURNS = 20;
export const MAX_TURN_CHARS = 8000;
const STORAGE_KEY = "kb-assistant.conversations.v1";
const MAX_CONVERSATIONS = 100;

export const newId = (): string =>
  typeof crypto.randomUUID === "function" ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";

function isSource(v: unknown): v is Source {
  return isObject(v) && isString(v.source) && isString(v.title) && Array.isArray(v.headings) && v.headings.every(isString) && isString(v.snippet);
}

/** A message from storage, checked field by field; anything malformed is dropped rather than trusted. */
function readMessage(v: unknown): StoredMessage | undefined {
  if (!isObject(v) || !isString(v.id) || (v.role !== "user" && v.role !== "assistant") || !isString(v.content)) return undefined;
  const m: StoredMessage = { id: v.id, role: v.role, content: v.content };
  if (v.role === "assistant") {
    const state = v.state;
    // An answer that was streaming when the page went away is kept as stopped.
    m.state = state === "done" || state === "error" || state === "stopped" ? state : "stopped";
    if (typeof v.found === "boolean") m.found = v.found;
    if (Array.isArray(v.sources)) m.sources = v.sources.filter(isSource);
    if (isObject(v.error) && isString(v.error.message)) m.error = { message: v.error.message, ...(isString(v.error.code) ? { code: v.error.code } : {}) };
    if (isString(v.model)) m.model = v.model;
    if (v.mode === "llm" || v.mode === "extractive") m.mode = v.mode;
  }
  return m;
}

function readConversation(v: unknown): Conversation | undefined {
  if (!isObject(v) || !isString(v.id) || !Array.isArray(v.messages)) return undefined;
  const messages = v.messages.map(readMessage).filter((m): m is StoredMessage => m !== undefined);
  const now = Date.now();
  return {
    id: v.id,
    title: isString(v.title) ? v.title : "",
    createdAt: typeof v.createdAt === "number" ? v.createdAt : now,
    updatedAt: typeof v.updatedAt === "number" ? v.updatedAt : now,
    messages,
  };
}

/** A conversation's name in the list: its first question, shortened. */
export function titleFor(question: string): string {
  const oneLine = question.replace(/\s+/g, " ").trim();
  const chars = Array.from(oneLine);
  return chars.length > 48 ? `${chars.slice(0, 47).join("")}…` : oneLine;
}

/** At most `max` UTF-16 units, never ending in half of a surrogate pair (the server refuses lone surrogates). */
export function clip(text: string, max = MAX_TURN_CHARS): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  const lastCode = cut.charCodeAt(cut.length - 1);
  if (lastCode >= 0xd800 && lastCode <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

/**
 * The history sent with a follow-up: completed exchanges (question + answer, including stopped answers with text)
 * before this point, the most recent `maxTurns` turns, each at most MAX_TURN_CHARS.
 */
export function buildHistory(messages: readonly StoredMessage[], maxTurns = MAX_HISTORY_TURNS): ChatTurn[] {
  const turns: ChatTurn[] = [];
  for (let i = 0; i < messages.length; i++) {
    const q = messages[i];
    const a = messages[i + 1];
    if (q?.role !== "user" || a?.role !== "assistant") continue;
    i++;
    if ((a.state !== "done" && a.state !== "stopped") || !a.content.trim()) continue;
    turns.push({ role: "user", content: clip(q.content) }, { role: "assistant", content: clip(a.content) });
  }
  const keep = maxTurns - (maxTurns % 2); // whole exchanges only
  return keep > 0 ? turns.slice(-keep) : [];
}

/** The part of the Web Storage API the store uses (localStorage in the page, a Map in tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Conversations in localStorage. Whatever is stored is validated on load: unreadable JSON or a wrong shape starts
 * fresh instead of breaking the page, and a full or unavailable storage just stops persisting.
 */
export class ConversationsStore {
  private conversations: Conversation[] = [];
  private activeId: string | undefined;
  private warned = false;

  constructor(private readonly storage: KeyValueStorage | null) {
    this.load();
  }

  private load(): void {
    let raw: string | null = null;
    try {
      raw = this.storage?.getItem(STORAGE_KEY) ?? null;
    } catch {
      raw = null;
    }
    if (!raw) return;
    try {
      const data: unknown = JSON.parse(raw);
      if (!isObject(data) || !Array.isArray(data.conversations)) throw new Error("unexpected shape");
      this.conversations = data.conversations.map(readConversation).filter((c): c is Conversation => c !== undefined);
      const active = isString(data.activeId) ? data.activeId : undefined;
      this.activeId = this.conversations.some((c) => c.id === active) ? active : this.conversations[0]?.id;
    } catch (err) {
      console.warn("Saved conversations could not be read; starting fresh.", err);
      this.conversations = [];
      this.activeId = undefined;
    }
  }

  save(): void {
    if (!this.storage) return;
    try {
      this.storage.setItem(STORAGE_KEY, JSON.stringify({ version: 1, activeId: this.activeId, conversations: this.conversations }));
    } catch (err) {
      if (!this.warned) console.warn("Conversations could not be saved in this browser.", err);
      this.warned = true;
    }
  }

  /** Most recently used first. */
  list(): readonly Conversation[] {
    // Ties (same millisecond) go to the one created later, which sits later in the array.
    return this.conversations
      .map((c, i) => [c, i] as const)
      .sort(([a, i], [b, j]) => b.updatedAt - a.updatedAt || j - i)
      .map(([c]) => c);
  }

  get(id: string): Conversation | undefined {
    return this.conversations.find((c) => c.id === id);
  }

  /** The current conversation; one is created when there is none. */
  active(): Conversation {
    const current = this.activeId ? this.get(this.activeId) : undefined;
    return current ?? this.create();
  }

  /** A new empty conversation, made current. An existing empty one is reused instead of piling up. */
  create(): Conversation {
    const empty = this.conversations.find((c) => c.messages.length === 0);
    if (empty) {
      empty.updatedAt = Date.now();
      this.activeId = empty.id;
      this.save();
      return empty;
    }
    const now = Date.now();
    const conv: Conversation = { id: newId(), title: "", createdAt: now, updatedAt: now, messages: [] };
    this.conversations.push(conv);
    if (this.conversations.length > MAX_CONVERSATIONS) {
      const oldest = [...this.conversations].sort((a, b) => a.updatedAt - b.updatedAt)[0];
      if (oldest) this.conversations = this.conversations.filter((c) => c !== oldest);
    }
    this.activeId = conv.id;
    this.save();
    return conv;
  }

  select(id: string): Conversation | undefined {
    const conv = this.get(id);
    if (conv) {
      this.activeId = id;
      this.save();
    }
    return conv;
  }

  remove(id: string): void {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    if (this.activeId === id) this.activeId = this.list()[0]?.id;
    this.save();
  }

  touch(conv: Conversation): void {
    conv.updatedAt = Date.now();
  }
}
