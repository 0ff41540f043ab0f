import { ApiError, getJson, sendJson } from "./api.ts";
import { byId, el, formatBytes, formatDate, ICONS, icon } from "./dom.ts";
import type { DocumentInfo, IngestSummary, RebuildJob, WriteAccepted } from "./types.ts";

const TOKEN_KEY = "kb-assistant.admin-token";
const POLL_MS = 500;
const ACCEPTED_EXTENSIONS = [".md", ".markdown", ".txt", ".pdf", ".html", ".htm"];

export interface KbPanelHandlers {
  /** The index changed (a rebuild succeeded): refresh the header counts and the example questions. */
  onIndexChanged(): Promise<void>;
}

function summaryText(s: IngestSummary): string {
  const head = s.published
    ? `Index updated: ${s.files} documents, ${s.chunks} chunks (${s.filesAdded} added, ${s.filesChanged} changed, ${s.filesRemoved} removed) in ${s.seconds.toFixed(1)} s.`
    : `Nothing changed: the index is up to date (${s.files} documents, ${s.chunks} chunks).`;
  const failed = s.failed.length > 0 ? ` Could not read: ${s.failed.map((f) => `${f.source} (${f.error})`).join("; ")}.` : "";
  return head + failed;
}

/**
 * The knowledge-base drawer: the document list, upload (file picker or drop), delete and rebuild, with the progress
 * of the rebuild job each of them starts. Writes need the admin token, kept in sessionStorage for this tab only.
 */
export class KbPanel {
  private readonly dialog = byId<HTMLDialogElement>("kb-panel");
  private readonly token = byId<HTMLInputElement>("admin-token");
  private readonly fileInput = byId<HTMLInputElement>("kb-file");
  private readonly drop = byId("kb-drop");
  private readonly picked = byId<HTMLUListElement>("kb-picked");
  private readonly uploadButton = byId<HTMLButtonElement>("kb-upload");
  private readonly rebuildButton = byId<HTMLButtonElement>("kb-rebuild");
  private readonly progress = byId<HTMLProgressElement>("kb-progress");
  private readonly message = byId("kb-message");
  private readonly docs = byId<HTMLUListElement>("kb-docs");
  private readonly total = byId("kb-doc-total");
  private readonly disabledNote = byId("kb-writes-disabled");
  private writes: boolean;
  private busy = false;

  constructor(private readonly handlers: KbPanelHandlers) {
    // The server wrote its write setting into the page; /health confirms it later.
    this.writes = document.body.dataset.writes === "enabled";
    try {
      this.token.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
    } catch {
      // sessionStorage unavailable: the token just is not remembered.
    }
    this.token.addEventListener("input", () => {
      try {
        if (this.token.value) sessionStorage.setItem(TOKEN_KEY, this.token.value);
        else sessionStorage.removeItem(TOKEN_KEY);
      } catch {
        // ignore
      }
    });
    byId("kb-open").addEventListener("click", () => this.open());
    byId("kb-close").addEventListener("click", () => this.dialog.close());
    this.fileInput.addEventListener("change", () => this.showPicked());
    this.uploadButton.addEventListener("click", () => void this.upload([...(this.fileInput.files ?? [])]));
    this.rebuildButton.addEventListener("click", () => void this.rebuild());
    this.docs.addEventListener("click", (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>(".kb-delete");
      const li = button?.closest<HTMLLIElement>("li[data-id]");
      if (button && li?.dataset.id) void this.remove(li.dataset.id, li.dataset.source ?? "");
    });
    for (const type of ["dragenter", "dragover"]) {
      this.drop.addEventListener(type, (event) => {
        event.preventDefault();
        if (this.writes && !this.busy) this.drop.classList.add("drag-over");
      });
    }
    for (const type of ["dragleave", "dragend"]) this.drop.addEventListener(type, () => this.drop.classList.remove("drag-over"));
    this.drop.addEventListener("drop", (event) => {
      event.preventDefault();
      this.drop.classList.remove("drag-over");
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length > 0) void this.upload(files);
    });
    // Files dropped next to the zone must not make the browser navigate away to them.
    this.dialog.addEventListener("dragover", (event) => event.preventDefault());
    this.dialog.addEventListener("drop", (event) => event.preventDefault());
    this.applyWrites();
  }

  open(): void {
    if (!this.dialog.open) this.dialog.showModal();
    void this.refreshDocs();
  }

  setWrites(enabled: boolean): void {
    this.writes = enabled;
    this.applyWrites();
  }

  async refreshDocs(): Promise<void> {
    try {
      const { documents } = await getJson<{ documents: DocumentInfo[] }>("/documents");
      this.renderDocs(documents);
    } catch (err) {
      this.say(err instanceof ApiError ? err.message : String(err), "error");
    }
  }

  private applyWrites(): void {
    const off = !this.writes;
    this.disabledNote.hidden = !off;
    for (const control of [this.token, this.fileInput, this.uploadButton, this.rebuildButton]) control.disabled = off || (this.busy && control !== this.token);
    this.drop.classList.toggle("disabled", off);
    for (const b of this.docs.querySelectorAll<HTMLButtonElement>(".kb-delete")) b.disabled = off || this.busy;
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.applyWrites();
  }

  private say(text: string, kind: "info" | "error" | "ok" = "info"): void {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
  }

  private authHeaders(): Record<string, string> {
    const token = this.token.value.trim();
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  private showPicked(): void {
    const files = [...(this.fileInput.files ?? [])];
    this.picked.replaceChildren(...files.map((f) => el("li", {}, [icon(ICONS.doc, 14), el("span", { text: `${f.name} · ${formatBytes(f.size)}` })])));
    if (files.length > 0) this.say(`${files.length} file${files.length === 1 ? "" : "s"} ready: press Upload.`);
  }

  private renderDocs(documents: DocumentInfo[]): void {
    this.total.textContent = String(documents.length);
    if (documents.length === 0) {
      this.docs.replaceChildren(el("li", { className: "kb-empty", text: "No documents yet. Upload Markdown, text, PDF or HTML files." }));
      return;
    }
    this.docs.replaceChildren(
      ...documents.map((d) => {
        const remove = el("button", { className: "kb-delete icon-btn", attrs: { type: "button", "aria-label": `Delete ${d.source}`, title: "Delete" } }, [
          icon(ICONS.trash, 16),
        ]);
        remove.disabled = !this.writes || this.busy;
        const meta = `${d.source} · ${d.chunks} chunk${d.chunks === 1 ? "" : "s"} · ${formatBytes(d.bytes)} · ${formatDate(d.updatedAt)}`;
        return el("li", { attrs: { "data-id": d.id, "data-source": d.source } }, [
          el("div", { className: "kb-doc" }, [
            el("span", { className: "kb-doc-title", text: d.title || d.source }),
            el("span", { className: "kb-doc-meta", text: meta }),
          ]),
          remove,
        ]);
      }),
    );
  }

  /** The message for a failed write: the token, the server setting, a busy index, or what the server said. */
  private writeError(err: unknown): string {
    if (!(err instanceof ApiError)) return String(err);
    if (err.status === 401) return this.token.value.trim() ? "The admin token is not valid." : "Enter the admin token (the server's ADMIN_TOKEN) first.";
    if (err.code === "WRITE_DISABLED") {
      this.setWrites(false);
      return "Uploading and rebuilding are disabled on this server: start it with ADMIN_TOKEN=… (see README).";
    }
    if (err.code === "REBUILD_IN_PROGRESS") return "A rebuild is already running. Try again when it has finished.";
    return err.code ? `${err.message} (${err.code})` : err.message;
  }

  private async upload(files: File[]): Promise<void> {
    if (!this.writes || this.busy) return;
    if (files.length === 0) {
      this.say("Choose one or more files first (or drop them on the box above).", "error");
      return;
    }
    const unsupported = files.filter((f) => !ACCEPTED_EXTENSIONS.some((ext) => f.name.toLowerCase().endsWith(ext)));
    if (unsupported.length > 0) {
      this.say(`Not a supported type: ${unsupported.map((f) => f.name).join(", ")}. Use ${ACCEPTED_EXTENSIONS.join(" ")}.`, "error");
      return;
    }
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    this.setBusy(true);
    this.say(`Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`);
    try {
      const accepted = await sendJson<WriteAccepted>("POST", "/documents", { form, headers: this.authHeaders() });
      this.fileInput.value = "";
      this.picked.replaceChildren();
      const names = (accepted.documents ?? []).map((d) => d.source).join(", ");
      await this.followJob(accepted, `Uploaded ${names}.`);
    } catch (err) {
      this.say(this.writeError(err), "error");
    } finally {
      this.setBusy(false);
    }
  }

  private async remove(id: string, source: string): Promise<void> {
    if (!this.writes || this.busy) return;
    if (!window.confirm(`Delete “${source}” from the knowledge base? The file is removed from the documents folder and the index is rebuilt.`)) return;
    this.setBusy(true);
    this.say(`Deleting ${source}…`);
    try {
      const accepted = await sendJson<WriteAccepted>("DELETE", `/documents/${encodeURIComponent(id)}`, { headers: this.authHeaders() });
      await this.followJob(accepted, `Deleted ${source}.`);
    } catch (err) {
      this.say(this.writeError(err), "error");
    } finally {
      this.setBusy(false);
    }
  }

  private async rebuild(): Promise<void> {
    if (!this.writes || this.busy) return;
    this.setBusy(true);
    this.say("Starting a rebuild…");
    try {
      const accepted = await sendJson<WriteAccepted>("POST", "/index/rebuild", { headers: this.authHeaders() });
      await this.followJob(accepted, "");
    } catch (err) {
      this.say(this.writeError(err), "error");
    } finally {
      this.setBusy(false);
    }
  }

  /** Follows the rebuild a write started (polling its job), then refreshes the list, the counts and the examples. */
  private async followJob(accepted: WriteAccepted, done: string): Promise<void> {
    const prefix = done ? `${done} ` : "";
    if (!accepted.jobId) {
      this.say(`${prefix}${accepted.message ?? "No rebuild was started."}`);
      await this.refreshDocs();
      return;
    }
    this.progress.hidden = false;
    this.progress.max = 1;
    this.progress.value = 0;
    const job = await this.poll(accepted.jobId, prefix);
    if (job?.state === "succeeded") {
      this.progress.max = Math.max(1, job.progress.total);
      this.progress.value = this.progress.max;
      await this.refreshDocs();
      await this.handlers.onIndexChanged();
      this.say(`${prefix}${job.summary ? summaryText(job.summary) : "Index rebuilt."}`, "ok");
    } else if (job?.state === "failed") {
      this.say(`${prefix}The rebuild failed: ${job.error?.message ?? "unknown error"}`, "error");
    }
  }

  private async poll(jobId: string, prefix: string): Promise<RebuildJob | undefined> {
    let failures = 0;
    for (;;) {
      try {
        const job = await getJson<RebuildJob>(`/index/jobs/${encodeURIComponent(jobId)}`);
        failures = 0;
        if (job.state === "succeeded" || job.state === "failed") return job;
        const { done, total, phase } = job.progress;
        if (total > 0) {
          this.progress.max = total;
          this.progress.value = Math.min(done, total);
        } else this.progress.removeAttribute("value"); // indeterminate until the total is known
        this.say(`${prefix}Rebuilding the index… ${phase}${total > 0 ? ` ${done}/${total}` : ""}`);
      } catch (err) {
        failures++;
        if (failures >= 5 || (err instanceof ApiError && err.status === 404)) {
          this.say(`${prefix}Lost track of the rebuild: ${err instanceof ApiError ? err.message : String(err)}`, "error");
          return undefined;
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
