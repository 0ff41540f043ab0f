import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { AppError, DiskFullError, isDiskFull, ParseError } from "../../src/errors/app-error.ts";
import { contentCheckFor } from "./content-check.ts";
import { numberedName, safeFileName } from "./safe-file-name.ts";
import { MULTIPART_OVERHEAD_BYTES, type UploadLimits } from "./upload-limits.ts";

/** One uploaded file, complete and checked, waiting in a hidden temp file (scanDocs skips dot-files). */
export interface ReceivedFile {
  /** Sanitised name parts; the final name is chosen when the file is stored. */
  name: { stem: string; ext: string };
  tempPath: string;
  bytes: number;
}

export interface ReceiveOptions {
  /** Where temp files go: the destination folder itself, so the final rename never crosses filesystems. */
  dir: string;
  limits: UploadLimits;
  /** Accepted extensions, lower-case with the dot (from the loader registry). */
  extensions: readonly string[];
}

export const TEMP_PREFIX = ".upload-";

const tooLarge = (what: string) => new AppError("PAYLOAD_TOO_LARGE", `The upload is too large: ${what}. Nothing was saved.`, { status: 413 });

/**
 * Streams a multipart/form-data request into temp files, enforcing the limits and checking each file's type and
 * content as it arrives. All or nothing: any problem (a limit, a type, bad content, a broken body, a client that
 * went away) removes every temp file of the request and rejects with the first error; the request body is still
 * read to its end (up to the hard cap) so the client gets the error response instead of a reset connection.
 */
export function receiveUpload(req: IncomingMessage, opts: ReceiveOptions): Promise<ReceivedFile[]> {
  const { limits } = opts;
  const hardCap = limits.maxTotalBytes + MULTIPART_OVERHEAD_BYTES;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > hardCap) {
    return Promise.reject(tooLarge(`the request body is over ${limits.maxTotalBytes} bytes in total`));
  }

  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      // Browsers send UTF-8 names unencoded; busboy's default (latin1) would garble Chinese file names.
      defParamCharset: "utf8",
      // +1 so that busboy's "limit" (reached, not exceeded) fires only for files over the limit.
      limits: { fileSize: limits.maxFileBytes + 1, files: limits.maxFiles, parts: limits.maxParts + 1, fieldSize: 64 * 1024 },
    });
  } catch (err) {
    return Promise.reject(new AppError("BAD_REQUEST", "The multipart body has no boundary.", { status: 400, cause: err }));
  }

  return new Promise<ReceivedFile[]>((resolve, reject) => {
    // Indexed by position in the request: writes finish in any order, the response lists files in the order sent.
    const received: ReceivedFile[] = [];
    let fileCount = 0;
    const temps: string[] = [];
    const writes: Promise<void>[] = [];
    const abort = new AbortController();
    let failure: AppError | undefined;
    let totalBytes = 0;
    let rawBytes = 0;
    let settled = false;

    const fail = (err: AppError): void => {
      failure ??= err;
    };

    const settle = async (): Promise<void> => {
      if (settled) return;
      settled = true;
      await Promise.allSettled(writes);
      const files = received.filter((f) => f !== undefined);
      if (!failure && files.length === 0)
        fail(new AppError("BAD_REQUEST", "The request holds no file: send multipart/form-data with one or more file parts.", { status: 400 }));
      if (failure) {
        await Promise.all(temps.map((t) => rm(t, { force: true })));
        reject(failure);
      } else resolve(files);
    };

    /** Gives up on the body now: it is malformed, over the hard cap, or the client is gone. */
    const stop = (err: AppError): void => {
      fail(err);
      req.unpipe(bb);
      abort.abort();
      void settle();
    };

    // Counts every byte of the body, also while a malformed one is drained: past the hard cap reading stops for good
    // (the route then closes the connection).
    req.on("data", (chunk: Buffer) => {
      rawBytes += chunk.length;
      if (rawBytes > hardCap) {
        stop(tooLarge(`the request body is over ${limits.maxTotalBytes} bytes in total`));
        req.pause();
      }
    });

    bb.on("file", (_field, stream, info) => {
      const name = safeFileName(info.filename ?? "");
      if (failure) {
        stream.resume();
        return;
      }
      if (!opts.extensions.includes(name.ext)) {
        const shown = name.ext ? `"${name.ext}"` : "no extension";
        fail(new AppError("UNSUPPORTED_FILE_TYPE", `Unsupported file type (${shown}). Accepted: ${opts.extensions.join(" ")}.`, { status: 415 }));
        stream.resume();
        return;
      }
      const position = fileCount++;
      const file: ReceivedFile = { name, tempPath: join(opts.dir, `${TEMP_PREFIX}${randomUUID()}.part`), bytes: 0 };
      temps.push(file.tempPath);
      const check = contentCheckFor(name.ext);
      stream.on("limit", () => fail(tooLarge(`a file is over ${limits.maxFileBytes} bytes`)));
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          // After a failure the rest of the body is still read (so the client sees the response) but not written.
          if (failure) return done();
          file.bytes += chunk.length;
          totalBytes += chunk.length;
          if (totalBytes > limits.maxTotalBytes) {
            fail(tooLarge(`the files are over ${limits.maxTotalBytes} bytes in total`));
            return done();
          }
          check.push(chunk);
          done(null, chunk);
        },
      });
      writes.push(
        pipeline(stream, meter, createWriteStream(file.tempPath, { flags: "wx" }), { signal: abort.signal }).then(
          () => {
            if (failure) return;
            const problem = check.finish();
            if (problem) fail(new ParseError(numberedName(name, 1), problem));
            else received[position] = file;
          },
          (err: unknown) => fail(writeError(err)),
        ),
      );
    });
    bb.on("filesLimit", () => fail(tooLarge(`more than ${limits.maxFiles} files`)));
    bb.on("partsLimit", () => fail(tooLarge(`more than ${limits.maxParts} parts`)));
    bb.on("error", (err: unknown) => {
      stop(new AppError("BAD_REQUEST", "The multipart body is malformed.", { status: 400, cause: err }));
      // Read and discard whatever is left (bounded by the hard cap) so the client gets the response.
      if (rawBytes <= hardCap) req.resume();
    });
    bb.on("close", () => void settle());
    req.on("close", () => {
      if (!req.complete) stop(new AppError("BAD_REQUEST", "The upload was interrupted.", { status: 400 }));
    });
    req.pipe(bb);
  });
}

function writeError(err: unknown): AppError {
  // 507 DISK_FULL with a message the client sees (it names no paths): the upload can be retried once space is freed.
  if (isDiskFull(err)) return new DiskFullError(UPLOAD_DISK_FULL, err);
  return new AppError("INTERNAL", "The upload could not be stored.", { status: 500, cause: err });
}

export const UPLOAD_DISK_FULL = "Not enough disk space to store the upload. Nothing was saved.";
