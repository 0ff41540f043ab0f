/**
 * Limits for POST /documents (multipart uploads). Going over any of them answers 413 PAYLOAD_TOO_LARGE and keeps
 * nothing: the whole request is refused, not just the offending file, so a client never has to guess what was saved.
 */
export interface UploadLimits {
  /** Bytes of one file. */
  maxFileBytes: number;
  /** Files in one request. */
  maxFiles: number;
  /** Parts (files + plain fields) in one request. */
  maxParts: number;
  /** Bytes of all files of one request together. */
  maxTotalBytes: number;
}

const MiB = 1024 * 1024;

export const UPLOAD_LIMITS: UploadLimits = {
  maxFileBytes: 20 * MiB,
  maxFiles: 10,
  maxParts: 20,
  maxTotalBytes: 50 * MiB,
};

/**
 * Multipart framing (boundaries, part headers) on top of the file bytes. A request body larger than
 * maxTotalBytes + this is cut off without reading the rest, so a client cannot make the server drain forever.
 */
export const MULTIPART_OVERHEAD_BYTES = 1 * MiB;

/** Folder inside DOCS_DIR where uploads are stored. */
export const UPLOAD_SUBDIR = "uploads";
