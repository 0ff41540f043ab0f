/** The values the page template is filled with; see index.html's `{{name}}` placeholders. */
export interface PageState {
  documents: number;
  chunks: number;
  llm: { provider: string; model: string } | null;
  degraded: string | undefined;
  writes: "enabled" | "disabled";
  examples: string[];
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

export function degradedLabel(message: string): string {
  return `The knowledge base is degraded: ${message}`;
}

export function answerModeLabel(llm: PageState["llm"]): string {
  return llm ? `Generated with ${llm.provider}:${llm.model}` : "Extractive (offline)";
}

/**
 * Fills the page template (valid HTML: `{{name}}` placeholders in text, `hidden data-ssr="…"` on optional parts) with
 * the server's current state, so the header, the example questions and the KB panel are right on first paint (the
 * script refreshes them from /health and /examples afterwards). Every value is escaped: example questions come from
 * document headings, which are untrusted.
 */
export function renderPage(template: string, state: PageState): string {
  const text: Record<string, string> = {
    documents: String(state.documents),
    chunks: String(state.chunks),
    answerMode: answerModeLabel(state.llm),
    mode: state.llm ? "llm" : "extractive",
    degradedMessage: state.degraded === undefined ? "" : degradedLabel(state.degraded),
    writes: state.writes,
  };
  const examples = state.examples.map((q) => `<button type="button" class="example">${escapeHtml(q)}</button>`).join("");
  // Elements marked `hidden data-ssr="name"` in the template are shown by dropping their `hidden`.
  const visible: Record<string, boolean> = {
    "offline-hint": state.llm === null,
    degraded: state.degraded !== undefined,
    "writes-disabled": state.writes === "disabled",
  };
  return template
    .replace(/ hidden data-ssr="([\w-]+)"/g, (whole, name: string) => (visible[name] ? ` data-ssr="${name}"` : whole))
    .replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
      if (name === "examples") return examples;
      if (name in text) return escapeHtml(text[name] as string);
      return whole;
    });
}
