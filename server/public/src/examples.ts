import { el } from "./dom.ts";

/** The empty state's example questions (first rendered by the server, refreshed from GET /examples). */
export class Examples {
  constructor(
    private readonly container: HTMLElement,
    onAsk: (question: string) => void,
  ) {
    container.addEventListener("click", (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>("button.example");
      const question = button?.textContent?.trim();
      if (question) onAsk(question);
    });
  }

  render(questions: readonly string[]): void {
    this.container.replaceChildren(...questions.map((q) => el("button", { className: "example", text: q, attrs: { type: "button" } })));
  }
}
