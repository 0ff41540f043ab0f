import { ApiError, askStream } from "./api.ts";
import type { ChatView } from "./chat-view.ts";
import { copyText } from "./clipboard.ts";
import { buildHistory, type ConversationsStore, newId, titleFor } from "./conversations-store.ts";
import type { SourceDialog } from "./source-dialog.ts";
import type { Conversation, StoredMessage } from "./types.ts";

export interface Composer {
  input: HTMLTextAreaElement;
  send: HTMLButtonElement;
  stop: HTMLButtonElement;
}

interface Running {
  conversation: Conversation;
  message: StoredMessage;
  abort: AbortController;
}

/** What to show for a failed answer: the server's message and code, or what went wrong on the way. */
function describeFailure(err: unknown): { message: string; code?: string } {
  if (err instanceof ApiError) {
    if (err.kind === "stream" && err.code) return { message: `The answer could not be completed: ${err.message}`, code: err.code };
    return { message: err.message, ...(err.code ? { code: err.code } : {}) };
  }
  return { message: `Something went wrong: ${err instanceof Error ? err.message : String(err)}` };
}

/**
 * Asking, streaming, stopping and retrying. One answer streams at a time; its message lives in the store, so switching
 * conversations mid-answer loses nothing.
 */
export class ChatController {
  private running: Running | undefined;

  constructor(
    private readonly store: ConversationsStore,
    private readonly view: ChatView,
    private readonly composer: Composer,
    private readonly dialog: SourceDialog,
    private readonly onConversationsChanged: () => void,
  ) {
    composer.send.addEventListener("click", () => this.submit());
    composer.stop.addEventListener("click", () => this.stop());
    composer.input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter is a newline; Enter that confirms an IME composition (Chinese input) is neither.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      this.submit();
    });
    composer.input.addEventListener("input", () => this.syncSend());
    this.syncSend();
  }

  get streaming(): boolean {
    return this.running !== undefined;
  }

  submit(): void {
    const question = this.composer.input.value.trim();
    if (!question || this.running) return;
    this.composer.input.value = "";
    this.ask(question);
  }

  /** Asks in the current conversation, with its earlier exchanges as history. */
  ask(question: string): void {
    if (this.running) return;
    const conversation = this.store.active();
    const history = buildHistory(conversation.messages);
    const user: StoredMessage = { id: newId(), role: "user", content: question };
    const answer: StoredMessage = { id: newId(), role: "assistant", content: "", state: "streaming" };
    conversation.messages.push(user, answer);
    if (!conversation.title) conversation.title = titleFor(question);
    this.store.touch(conversation);
    this.store.save();
    this.onConversationsChanged();
    if (this.view.displayedConversation !== conversation.id) this.view.render(conversation);
    else {
      this.view.append(conversation.id, user);
      this.view.append(conversation.id, answer);
    }
    void this.run(conversation, answer, question, history);
  }

  /** Asks an answer's question again, in place, with the history that came before it. */
  retry(messageId: string): void {
    if (this.running) return;
    const conversation = this.store.active();
    const index = conversation.messages.findIndex((m) => m.id === messageId);
    const question = conversation.messages[index - 1];
    const answer = conversation.messages[index];
    if (index < 1 || question?.role !== "user" || !answer) return;
    const history = buildHistory(conversation.messages.slice(0, index - 1));
    answer.content = "";
    answer.state = "streaming";
    delete answer.error;
    delete answer.found;
    delete answer.sources;
    delete answer.mode;
    delete answer.model;
    this.view.update(answer);
    void this.run(conversation, answer, question.content, history);
  }

  stop(): void {
    this.running?.abort.abort();
  }

  /** Abandons the answer of a conversation that is being deleted. */
  abandon(conversationId: string): void {
    if (this.running?.conversation.id === conversationId) this.stop();
  }

  cite(messageId: string, n: number, opener: HTMLElement): void {
    const messages = this.store.active().messages;
    const index = messages.findIndex((m) => m.id === messageId);
    const source = messages[index]?.sources?.[n - 1];
    if (!source) return;
    const question = messages[index - 1]?.role === "user" ? (messages[index - 1]?.content ?? "") : "";
    this.dialog.open(source, n, question, opener);
  }

  async copy(messageId: string, button: HTMLButtonElement): Promise<void> {
    const message = this.store.active().messages.find((m) => m.id === messageId);
    if (!message?.content) return;
    const ok = await copyText(message.content);
    const label = button.querySelector("span");
    if (!label) return;
    label.textContent = ok ? "Copied" : "Copy failed";
    button.classList.toggle("copied", ok);
    setTimeout(() => {
      label.textContent = "Copy";
      button.classList.remove("copied");
    }, 1500);
  }

  private async run(conversation: Conversation, message: StoredMessage, question: string, history: ReturnType<typeof buildHistory>): Promise<void> {
    const abort = new AbortController();
    this.running = { conversation, message, abort };
    this.setStreaming(true);
    let text = "";
    try {
      const result = await askStream(
        { question, history },
        {
          onSources: (sources) => {
            message.sources = sources;
            this.view.showSources(message);
          },
          onToken: (token) => {
            text += token;
            message.content = text;
            this.view.streamBody(message);
          },
        },
        abort.signal,
      );
      message.content = result.answer;
      message.sources = result.sources;
      message.found = result.found;
      message.mode = result.mode;
      message.model = result.model;
      message.state = "done";
    } catch (err) {
      message.content = text;
      if (abort.signal.aborted) message.state = "stopped";
      else {
        message.state = "error";
        message.error = describeFailure(err);
      }
    } finally {
      this.running = undefined;
      this.store.touch(conversation);
      this.store.save();
      this.view.update(message);
      this.setStreaming(false);
    }
  }

  private setStreaming(on: boolean): void {
    this.composer.stop.hidden = !on;
    this.composer.send.hidden = on;
    this.syncSend();
    document.getElementById("messages")?.setAttribute("aria-busy", String(on));
    if (!on && document.activeElement === document.body) this.composer.input.focus();
  }

  private syncSend(): void {
    this.composer.send.disabled = this.running !== undefined || this.composer.input.value.trim() === "";
  }
}
