import { headingPath } from "./chat-view.ts";
import { highlightSnippet } from "./highlight.ts";
import type { Source } from "./types.ts";

/**
 * The citation dialog: a source's title, file, heading path, page and snippet, with the question's words marked.
 * Everything is set as text. Esc and the close button close it; focus goes back to the citation that opened it.
 */
export class SourceDialog {
  private opener: HTMLElement | undefined;

  constructor(private readonly dialog: HTMLDialogElement) {
    dialog.querySelector(".close")?.addEventListener("click", () => dialog.close());
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener("click", (event) => {
      if (event.target !== dialog) return;
      const r = dialog.getBoundingClientRect();
      const inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
      if (!inside) dialog.close();
    });
    dialog.addEventListener("close", () => {
      const opener = this.opener;
      this.opener = undefined;
      if (opener?.isConnected) opener.focus();
    });
  }

  open(source: Source, n: number, question: string, opener: HTMLElement): void {
    const set = (selector: string, text: string): HTMLElement | null => {
      const node = this.dialog.querySelector<HTMLElement>(selector);
      if (node) node.textContent = text;
      return node;
    };
    set(".source-number", String(n));
    set(".source-title", source.title || source.source);
    set(".source-path", source.source);
    set(".source-headings", source.headings.length > 0 ? headingPath(source.headings) : "—");
    const page = set(".source-page", source.page === undefined ? "" : `page ${source.page}`);
    if (page) page.hidden = source.page === undefined;
    const pageRow = this.dialog.querySelector<HTMLElement>(".source-page-row");
    if (pageRow) pageRow.hidden = source.page === undefined;
    this.dialog.querySelector(".source-snippet")?.replaceChildren(highlightSnippet(source.snippet, question));
    this.opener = opener;
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.querySelector<HTMLElement>(".close")?.focus();
  }
}
