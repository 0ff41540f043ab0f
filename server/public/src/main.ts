import { getJson } from "./api.ts";
import { ChatController } from "./chat-controller.ts";
import { ChatView } from "./chat-view.ts";
import { ConversationList } from "./conversation-list.ts";
import { ConversationsStore } from "./conversations-store.ts";
import { byId } from "./dom.ts";
import { Examples } from "./examples.ts";
import { KbPanel } from "./kb-panel.ts";
import { SourceDialog } from "./source-dialog.ts";
import { StatusBar } from "./status-bar.ts";
import type { Health } from "./types.ts";

/**
 * Wires the page. Everything that reacts to the user is attached synchronously, before any request, so the page is
 * usable as soon as it has loaded; the status and the examples are refreshed from the server afterwards.
 */
function storage(kind: "localStorage" | "sessionStorage"): Storage | null {
  try {
    const s = window[kind];
    const probe = "__kb_probe__";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

const store = new ConversationsStore(storage("localStorage"));
const status = new StatusBar();
const dialog = new SourceDialog(byId<HTMLDialogElement>("source-dialog"));
const input = byId<HTMLTextAreaElement>("question");

let controller: ChatController | undefined;
const view = new ChatView(byId("messages"), byId("chat"), byId("empty-state"), {
  onCite: (id, n, opener) => controller?.cite(id, n, opener),
  onRetry: (id) => controller?.retry(id),
  onCopy: (id, button) => void controller?.copy(id, button),
});

const sidebar = new ConversationList(byId<HTMLUListElement>("conversations"), byId("app"), byId<HTMLButtonElement>("sidebar-toggle"), byId("scrim"), {
  onSelect: (id) => {
    const conv = store.select(id);
    if (conv) view.render(conv);
    refreshList();
  },
  onDelete: (id) => {
    const conv = store.get(id);
    if (conv && conv.messages.length > 0 && !window.confirm(`Delete the chat “${conv.title || "New chat"}”?`)) return;
    controller?.abandon(id);
    store.remove(id);
    view.render(store.active());
    refreshList();
  },
});

function refreshList(): void {
  sidebar.render(store.list(), store.active().id);
}

controller = new ChatController(store, view, { input, send: byId<HTMLButtonElement>("send"), stop: byId<HTMLButtonElement>("stop") }, dialog, refreshList);

const examples = new Examples(byId("examples"), (question) => controller?.ask(question));

byId("new-chat").addEventListener("click", () => {
  view.render(store.create());
  refreshList();
  input.focus();
});

async function refreshStatus(): Promise<void> {
  try {
    const health = await getJson<Health>("/health");
    status.show(health);
    kb.setWrites(health.writes === "enabled");
  } catch (err) {
    status.unreachable(err instanceof Error ? err.message : String(err));
  }
}

async function refreshExamples(): Promise<void> {
  try {
    const { examples: list } = await getJson<{ examples: string[] }>("/examples");
    examples.render(list);
  } catch {
    // Keep the examples the page came with.
  }
}

const kb = new KbPanel({
  onIndexChanged: async () => {
    await Promise.all([refreshStatus(), refreshExamples()]);
  },
});

view.render(store.active());
refreshList();
void refreshStatus();
// The index may have been rebuilt elsewhere (CLI, another tab) while this tab was in the background.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") void refreshStatus();
});
