/**
 * A streaming check that an upload's bytes are what its extension claims, so a `.pdf` that is really HTML/SVG, or a
 * binary renamed `.md`, is refused before it reaches DOCS_DIR (and before any loader or future download route could
 * hand it to a browser). PDFs must start with the `%PDF-` magic; text formats must be valid UTF-8 without NUL bytes.
 */
export interface ContentCheck {
  push(chunk: Buffer): void;
  /** Call after the last chunk: the reason the content is refused, or undefined when it is acceptable. */
  finish(): string | undefined;
}

const PDF_MAGIC = Buffer.from("%PDF-", "latin1");

export function contentCheckFor(ext: string): ContentCheck {
  return ext === ".pdf" ? pdfCheck() : utf8TextCheck();
}

function pdfCheck(): ContentCheck {
  let head = Buffer.alloc(0);
  return {
    push(chunk) {
      if (head.length < PDF_MAGIC.length) head = Buffer.concat([head, chunk.subarray(0, PDF_MAGIC.length - head.length)]);
    },
    finish() {
      if (head.length === 0) return "the file is empty";
      return head.equals(PDF_MAGIC) ? undefined : "not a PDF file (it does not start with %PDF-)";
    },
  };
}

function utf8TextCheck(): ContentCheck {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let problem: string | undefined;
  let bytes = 0;
  return {
    push(chunk) {
      if (problem) return;
      bytes += chunk.length;
      if (chunk.includes(0)) {
        problem = "not a text file (it contains NUL bytes)";
        return;
      }
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        problem = "not valid UTF-8 text";
      }
    },
    finish() {
      if (problem) return problem;
      if (bytes === 0) return "the file is empty";
      try {
        decoder.decode();
      } catch {
        return "not valid UTF-8 text (it ends inside a character)";
      }
      return undefined;
    },
  };
}
