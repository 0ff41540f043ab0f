import { byId } from "./dom.ts";
import type { Health } from "./types.ts";

export const OFFLINE_MODE = "Extractive (offline)";

/** The header: document and chunk counts, how answers are made, and a banner when the index is degraded. */
export class StatusBar {
  private readonly docs = byId("doc-count");
  private readonly chunks = byId("chunk-count");
  private readonly mode = byId("answer-mode");
  private readonly hint = byId("offline-hint");
  private readonly degraded = byId("status-degraded");

  show(health: Health): void {
    this.docs.textContent = String(health.index.documents);
    this.chunks.textContent = String(health.index.chunks);
    const llm = health.llm;
    this.mode.textContent = llm ? `Generated with ${llm.provider}:${llm.model}` : OFFLINE_MODE;
    this.mode.className = `mode ${llm ? "mode-llm" : "mode-extractive"}`;
    this.mode.title = llm ? "Answers are written by the model from the retrieved passages." : "Answers are sentences extracted from your documents.";
    this.hint.hidden = llm !== null;
    this.degraded.hidden = health.status !== "degraded";
    this.degraded.textContent = health.status === "degraded" ? `The knowledge base is degraded: ${health.message ?? "no usable index"}` : "";
  }

  unreachable(message: string): void {
    this.degraded.hidden = false;
    this.degraded.textContent = message;
  }
}
