import { linkCitations } from "./citations.ts";
import { el, ICONS, icon } from "./dom.ts";
import { renderMarkdown } from "./render-markdown.ts";
import type { Conversation, Source, StoredMessage } from "./types.ts";

export interface ChatViewHandlers {
  onCite(messageId: string, n: number, opener: HTMLElement): void;
  onRetry(messageId: string): void;
  onCopy(messageId: string, button: HTMLButtonElement): void;
}

const NOT_FOUND_TEXT = "Nothing relevant in the knowledge base for this question. Try other words, or add documents in the Knowledge base panel.";
const STOPPED_TEXT = "Stopped. The answer above is incomplete.";

/** Joins a heading path for display: "常见大模型 › 二. 开源 LLM › 2. GLM 系列". */
export const headingPath = (headings: readonly string[]): string => headings.join(" › ");

/** Where a source is: its heading path and, for PDFs, its page. */
export function sourceWhere(s: Source): string {
  return [headingPath(s.headings), s.page === undefined ? "" : `page ${s.page}`].filter(Boolean).join(" · ");
}

/**
 * The message list. Answers are rendered from Markdown through the sanitiser on every update; while streaming, the
 * re-render is throttled to one per animation frame. Only the displayed conversation has elements: updates to a
 * message of another conversation (still streaming after a switch) are kept in the store and shown when it is opened.
 */
export class ChatView {
  private readonly elements = new Map<string, HTMLElement>();
  private conversationId: string | undefined;
  private pending: StoredMessage | undefined;
  private frame = 0;
  /** Follow new text to the bottom unless the reader has scrolled up to read something earlier. */
  private pinned = true;

  constructor(
    private readonly list: HTMLElement,
    private readonly scroller: HTMLElement,
    private readonly emptyState: HTMLElement,
    private readonly handlers: ChatViewHandlers,
  ) {
    list.addEventListener("click", (event) => this.onClick(event));
    scroller.addEventListener("scroll", () => {
      const s = this.scroller;
      this.pinned = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    });
  }

  get displayedConversation(): string | undefined {
    return this.conversationId;
  }

  render(conv: Conversation): void {
    this.cancelFrame();
    this.conversationId = conv.id;
    this.elements.clear();
    this.list.replaceChildren();
    for (const m of conv.messages) this.list.append(this.build(m));
    this.syncEmptyState();
    this.pinned = true;
    this.follow();
  }

  append(conversationId: string, msg: StoredMessage): void {
    if (conversationId !== this.conversationId) return;
    this.list.append(this.build(msg));
    this.syncEmptyState();
    this.pinned = true; // a new question always brings its answer into view
    this.follow();
  }

  /** Re-renders a message completely (state, body, notices, sources, actions). */
  update(msg: StoredMessage): void {
    if (this.pending?.id === msg.id) this.cancelFrame();
    const old = this.elements.get(msg.id);
    if (!old) return;
    old.replaceWith(this.build(msg));
    this.follow();
  }

  /** A streamed answer grew: re-render its body at the next frame. */
  streamBody(msg: StoredMessage): void {
    this.pending = msg;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const m = this.pending;
      this.pending = undefined;
      const node = m && this.elements.get(m.id);
      if (!m || !node) return;
      const body = node.querySelector<HTMLElement>(".msg-body");
      if (body) this.fillBody(body, m);
      node.querySelector(".msg-typing")?.remove();
      this.follow();
    });
  }

  /** Sources arrived (before any token): show them under the answer that is being written. */
  showSources(msg: StoredMessage): void {
    const node = this.elements.get(msg.id);
    if (!node) return;
    node.querySelector(".msg-sources")?.remove();
    const sources = this.sourcesList(msg);
    if (sources) node.querySelector(".msg-bubble")?.append(sources);
    this.follow();
  }

  element(messageId: string): HTMLElement | undefined {
    return this.elements.get(messageId);
  }

  private cancelFrame(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.pending = undefined;
  }

  private syncEmptyState(): void {
    this.emptyState.hidden = this.list.childElementCount > 0;
  }

  private follow(): void {
    if (this.pinned) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private build(msg: StoredMessage): HTMLElement {
    const node = msg.role === "user" ? this.buildUser(msg) : this.buildAssistant(msg);
    this.elements.set(msg.id, node);
    return node;
  }

  private buildUser(msg: StoredMessage): HTMLElement {
    return el("article", { className: "msg msg-user", attrs: { "data-id": msg.id, "aria-label": "Your question" } }, [
      el("div", { className: "msg-bubble" }, [el("div", { className: "msg-body", text: msg.content })]),
    ]);
  }

  private buildAssistant(msg: StoredMessage): HTMLElement {
    const state = msg.state ?? "done";
    const bubble = el("div", { className: "msg-bubble" });
    if (msg.found === false) bubble.append(el("p", { className: "msg-notfound", text: NOT_FOUND_TEXT }));
    const body = el("div", { className: "msg-body" });
    this.fillBody(body, msg);
    bubble.append(body);
    if (state === "streaming" && !msg.content) {
      bubble.append(el("div", { className: "msg-typing", attrs: { "aria-label": "Writing the answer" } }, [el("span"), el("span"), el("span")]));
    }
    if (state === "stopped") bubble.append(el("p", { className: "msg-stopped", text: STOPPED_TEXT }));
    if (state === "error" && msg.error) {
      bubble.append(
        el("p", { className: "msg-error", text: msg.error.code ? `${msg.error.message} (${msg.error.code})` : msg.error.message, attrs: { role: "alert" } }),
      );
    }
    const sources = this.sourcesList(msg);
    if (sources) bubble.append(sources);

    const main = el("div", { className: "msg-main" }, [bubble]);
    if (state !== "streaming") main.append(this.actions(msg));
    return el(
      "article",
      {
        className: "msg msg-assistant",
        attrs: { "data-id": msg.id, "data-state": state, "aria-label": "Answer", ...(state === "streaming" ? { "aria-busy": "true" } : {}) },
      },
      [el("div", { className: "msg-avatar", attrs: { "aria-hidden": "true" } }, [icon(ICONS.doc, 18)]), main],
    );
  }

  private fillBody(body: HTMLElement, msg: StoredMessage): void {
    const fragment = renderMarkdown(msg.content);
    linkCitations(fragment, msg.sources ?? []);
    body.replaceChildren(fragment);
  }

  private sourcesList(msg: StoredMessage): HTMLElement | undefined {
    const sources = msg.sources ?? [];
    if (sources.length === 0 || msg.found === false) return undefined;
    const items = sources.map((s, i) => {
      const n = i + 1;
      const open = el("button", { className: "source-open", attrs: { type: "button", "data-n": String(n), "aria-label": `Open source ${n}: ${s.title}` } }, [
        el("span", { className: "source-n", text: String(n) }),
        el("span", { className: "source-name", text: s.title || s.source }),
      ]);
      const where = sourceWhere(s);
      return el("li", {}, [
        open,
        ...(where ? [el("span", { className: "source-where", text: where })] : []),
        el("span", { className: "source-file", text: s.source }),
      ]);
    });
    return el("section", { className: "msg-sources", attrs: { "aria-label": "Sources" } }, [
      el("h3", { className: "sources-title", text: "Sources" }),
      el("ol", { className: "sources" }, items),
    ]);
  }

  private actions(msg: StoredMessage): HTMLElement {
    const copy = el("button", { className: "action copy", attrs: { type: "button", "aria-label": "Copy the answer" } }, [
      icon(ICONS.copy, 15),
      el("span", { text: "Copy" }),
    ]);
    const retry = el("button", { className: "action retry", attrs: { type: "button", "aria-label": "Ask this question again" } }, [
      icon(ICONS.retry, 15),
      el("span", { text: "Retry" }),
    ]);
    if (!msg.content) copy.disabled = true;
    const meta = msg.mode ? (msg.mode === "llm" ? `Generated · ${msg.model ?? ""}` : "Extractive") : "";
    return el("div", { className: "msg-actions" }, [copy, retry, ...(meta ? [el("span", { className: "msg-meta", text: meta })] : [])]);
  }

  private onClick(event: MouseEvent): void {
    const target = event.target as Element | null;
    const button = target?.closest<HTMLButtonElement>("button");
    const message = button?.closest<HTMLElement>(".msg");
    const id = message?.dataset.id;
    if (!button || !id) return;
    if (button.classList.contains("cite") || button.classList.contains("source-open")) {
      this.handlers.onCite(id, Number(button.dataset.n), button);
    } else if (button.classList.contains("retry")) {
      this.handlers.onRetry(id);
    } else if (button.classList.contains("copy")) {
      this.handlers.onCopy(id, button);
    }
  }
}
