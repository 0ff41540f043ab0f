/** A run of text under one heading path (Markdown/HTML) or on one page (PDF). */
export interface Section {
  text: string;
  headings: string[];
  /** 1-based PDF page. */
  page?: number;
}

export type DocumentFormat = "markdown" | "text" | "pdf" | "html";

export interface ParsedDocument {
  title: string;
  format: DocumentFormat;
  sections: Section[];
}

export interface LoaderInput {
  /** Path relative to the docs folder, with `/` separators. */
  source: string;
  data: Buffer;
}

export interface Loader {
  format: DocumentFormat;
  /** Lower-case extensions with the dot. */
  extensions: readonly string[];
  load(input: LoaderInput): Promise<ParsedDocument>;
}

/** Best title when the document names none: the file name without folder and extension. */
export function titleFromSource(source: string): string {
  const base = source.split("/").pop() ?? source;
  return base.replace(/\.[^.]+$/, "");
}

export function decodeUtf8(data: Buffer): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(data);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
