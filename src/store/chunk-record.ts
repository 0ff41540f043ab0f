/** One indexed chunk as stored in the docstore and returned by retrieval. */
export interface ChunkRecord {
  /** Stable id: derived from the source path and the chunk's content hash. */
  id: string;
  /** Stable id of the document (derived from its source path). */
  docId: string;
  /** Path relative to the docs folder, `/`-separated. */
  source: string;
  title: string;
  headings: string[];
  /** 1-based PDF page; absent for other formats. */
  page?: number;
  /** Character offsets into the document's extracted text. */
  start: number;
  end: number;
  text: string;
  /** sha256 of `text` (hex, truncated). */
  hash: string;
}

/** The text that is embedded and lexically indexed: title and heading path give a chunk the context it lacks alone. */
export function indexText(c: Pick<ChunkRecord, "title" | "headings" | "text">): string {
  const path = [c.title, ...c.headings.filter((h) => h !== c.title)].join(" > ");
  return `${path}\n${c.text}`;
}
