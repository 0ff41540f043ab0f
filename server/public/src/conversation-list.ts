import type { Conversation } from "./types.ts";
import { el, ICONS, icon } from "./dom.ts";

export interface ConversationListHandlers {
  onSelect(id: string): void;
  onDelete(id: string): void;
}

/**
 * The sidebar: one item per conversation (current one marked), each with a delete button. On narrow screens the
 * sidebar slides in over the chat from the menu button and closes on a choice, Esc or a tap outside.
 */
export class ConversationList {
  constructor(
    private readonly list: HTMLUListElement,
    private readonly app: HTMLElement,
    private readonly toggle: HTMLButtonElement,
    private readonly scrim: HTMLElement,
    handlers: ConversationListHandlers,
  ) {
    list.addEventListener("click", (event) => {
      const target = event.target as Element;
      const li = target.closest<HTMLLIElement>("li[data-id]");
      const id = li?.dataset.id;
      if (!id) return;
      if (target.closest(".delete-chat")) handlers.onDelete(id);
      else {
        handlers.onSelect(id);
        this.close();
      }
    });
    toggle.addEventListener("click", () => (this.app.classList.contains("sidebar-open") ? this.close() : this.open()));
    scrim.addEventListener("click", () => this.close());
    document.getElementById("sidebar-close")?.addEventListener("click", () => this.close());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.app.classList.contains("sidebar-open")) this.close();
    });
  }

  render(conversations: readonly Conversation[], activeId: string | undefined): void {
    const items = conversations.map((c) => {
      const active = c.id === activeId;
      const title = c.title || "New chat";
      const open = el("button", { className: "chat-open", attrs: { type: "button", ...(active ? { "aria-current": "true" } : {}) } }, [
        icon(ICONS.chat, 15),
        el("span", { className: "chat-title", text: title }),
      ]);
      const remove = el(
        "button",
        { className: "delete-chat icon-btn", attrs: { type: "button", "aria-label": `Delete the chat “${title}”`, title: "Delete chat" } },
        [icon(ICONS.trash, 15)],
      );
      return el("li", { className: active ? "active" : "", attrs: { "data-id": c.id } }, [open, remove]);
    });
    this.list.replaceChildren(...items);
  }

  open(): void {
    this.app.classList.add("sidebar-open");
    this.toggle.setAttribute("aria-expanded", "true");
    this.scrim.hidden = false;
    this.list.querySelector<HTMLElement>("li.active .chat-open, .chat-open")?.focus();
  }

  close(): void {
    if (!this.app.classList.contains("sidebar-open")) return;
    this.app.classList.remove("sidebar-open");
    this.toggle.setAttribute("aria-expanded", "false");
    this.scrim.hidden = true;
  }
}
