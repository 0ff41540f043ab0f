import { OpenAIEmbeddings } from "@langchain/openai";
import type { OpenAI } from "openai";
import { EmbeddingsError } from "../errors/app-error.ts";
import type { EmbeddingModel } from "./embedding-model.ts";
import { headerOf, isRecord, retryPolicy, statusOf, transportCode } from "./upstream-http.ts";

/**
 * Embeddings from any server that speaks the OpenAI `/embeddings` protocol (OpenAI, Zhipu, Qwen/DashScope, Ollama,
 * vLLM…), through LangChain's `OpenAIEmbeddings`. LangChain does the batching, the HTTP client and the retries (its
 * AsyncCaller is the one retry layer: it builds the OpenAI client with `maxRetries: 0`); this class adds what an
 * index needs on top: strict output checks, one error type whose message is safe to log, and cancellation.
 */
export interface OpenAICompatibleEmbeddingsOptions {
  /** Preset name; used in `id` and error messages. */
  provider: string;
  model: string;
  baseURL: string;
  apiKey?: string | undefined;
  /** Sent to the API only when set; otherwise learned from the first response and then fixed. */
  dimensions?: number | undefined;
  batchSize: number;
  /** Per attempt, until response headers arrive (that is what the OpenAI client's timeout covers). */
  timeoutMs: number;
  maxRetries: number;
}

/** Servers without auth (Ollama, local vLLM) still get a bearer header: the OpenAI client refuses to run without one. */
const PLACEHOLDER_KEY = "not-needed";
/** LangChain's default for embeddings: bounds how hard one ingest hits a rate-limited provider. */
const MAX_CONCURRENT_REQUESTS = 2;
type EmbeddingResponse = OpenAI.CreateEmbeddingResponse & { _request_id?: string | null };
type CheckResponse = (response: unknown, inputs: number) => Float32Array[];

/**
 * LangChain's `embedDocuments` trusts the response: it reads `data[j]` for each input (a short answer becomes a
 * TypeError, extra vectors are silently dropped, `index` is ignored). Hooking the per-request method lets us check
 * every raw response before LangChain touches it, while LangChain keeps batching and building requests.
 */
class CheckedOpenAIEmbeddings extends OpenAIEmbeddings<Float32Array> {
  constructor(
    fields: ConstructorParameters<typeof OpenAIEmbeddings>[0],
    private readonly check: CheckResponse,
  ) {
    super(fields);
  }

  protected override async embeddingWithRetry(request: OpenAI.EmbeddingCreateParams): Promise<EmbeddingResponse> {
    const response = await super.embeddingWithRetry(request);
    const inputs = Array.isArray(request.input) ? request.input.length : 1;
    const vectors = this.check(response, inputs);
    // LangChain copies `embedding` through untouched, so the checked Float32Arrays come out of embedDocuments as they are.
    const data = vectors.map((v, index) => ({ object: "embedding" as const, index, embedding: v as unknown as number[] }));
    return { ...response, data };
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

export class OpenAICompatibleEmbeddings implements EmbeddingModel {
  readonly provider: string;
  readonly model: string;
  private readonly options: OpenAICompatibleEmbeddingsOptions;
  private readonly configuredDimensions: number | undefined;
  private learnedDimensions: number | undefined;

  constructor(options: OpenAICompatibleEmbeddingsOptions) {
    this.options = options;
    this.provider = options.provider;
    this.model = options.model;
    this.configuredDimensions = options.dimensions;
  }

  /** 0 until known: when not configured, call `probe()` before reading `dimensions` or `id` (e.g. at ingest start). */
  get dimensions(): number {
    return this.configuredDimensions ?? this.learnedDimensions ?? 0;
  }

  get id(): string {
    return `${this.provider}:${this.model}:${this.dimensions}`;
  }

  /** Embeds a short text to learn (or confirm) the dimension; also proves the endpoint, model and key work. */
  async probe(signal?: AbortSignal): Promise<number> {
    await this.embedQuery("dimension probe", signal);
    return this.dimensions;
  }

  async embedDocuments(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) {
      signal?.throwIfAborted();
      return [];
    }
    return this.run(signal, (lc) => lc.embedDocuments(texts));
  }

  async embedQuery(text: string, signal?: AbortSignal): Promise<Float32Array> {
    return this.run(signal, (lc) => lc.embedQuery(text));
  }

  /**
   * LangChain's embeddings take no AbortSignal (the request options it passes the OpenAI client are empty), so each
   * call gets its own light LangChain instance whose fetch carries the call's signal: an abort cancels the HTTP
   * request in flight instead of leaving it to run until the timeout. The race covers LangChain's backoff sleeps,
   * which no signal reaches. The same controller stops the other batches of a call once one batch has failed.
   */
  private async run<T>(signal: AbortSignal | undefined, work: (lc: CheckedOpenAIEmbeddings) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const forward = () => signal && controller.abort(abortError(signal));
    signal?.addEventListener("abort", forward, { once: true });
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(abortError(controller.signal)), { once: true });
    });
    aborted.catch(() => {}); // it also rejects when the call ends normally; nobody needs to hear about that
    try {
      return await Promise.race([work(this.langchain(controller.signal)), aborted]);
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      throw this.toEmbeddingsError(err);
    } finally {
      signal?.removeEventListener("abort", forward);
      controller.abort();
    }
  }

  private langchain(signal: AbortSignal): CheckedOpenAIEmbeddings {
    const o = this.options;
    return new CheckedOpenAIEmbeddings(
      {
        model: o.model,
        apiKey: o.apiKey ?? PLACEHOLDER_KEY,
        batchSize: o.batchSize,
        timeout: o.timeoutMs,
        maxRetries: o.maxRetries,
        maxConcurrency: MAX_CONCURRENT_REQUESTS,
        // Once the call is over (aborted, or another batch failed) nothing is worth retrying.
        onFailedAttempt: (err: unknown) => {
          if (signal.aborted) throw err;
          retryPolicy(err);
        },
        // Servers that only speak floats (and the SDK's base64 default would hide malformed values from our checks).
        encodingFormat: "float",
        // Modern embedding models take newlines; stripping them would embed a different text than the one stored.
        stripNewLines: false,
        ...(this.configuredDimensions === undefined ? {} : { dimensions: this.configuredDimensions }),
        configuration: {
          baseURL: o.baseURL,
          // The SDK's own signal carries its timeout; ours is added so an abort cancels the request in flight.
          fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
          // Config is the only reader of the environment: keep OPENAI_ORG_ID / OPENAI_PROJECT_ID out of other providers' headers.
          organization: null,
          project: null,
          // The SDK's own console lines ("Could not parse message into JSON:") would break the one-JSON-object-per-line
          // log; every SDK failure reaches us as an exception and is logged by the server with its request id.
          logLevel: "off",
        },
      },
      (response, inputs) => this.check(response, inputs),
    );
  }

  /** The whole response is rejected on any defect: a half-good batch would put wrong vectors next to right ones. */
  private check(response: unknown, inputs: number): Float32Array[] {
    const bad = (why: string) => new EmbeddingsError("EMBEDDINGS_BAD_OUTPUT", `${this.provider} (${this.model}) returned unusable embeddings: ${why}`);
    const data = isRecord(response) ? response.data : undefined;
    if (!Array.isArray(data)) throw bad("the response has no data array");
    if (data.length !== inputs) throw bad(`${data.length} vectors for ${inputs} inputs`);

    const expected = this.configuredDimensions ?? this.learnedDimensions;
    const vectors = new Array<Float32Array | undefined>(inputs);
    let length: number | undefined = expected;
    data.forEach((item: unknown, position) => {
      const index = isRecord(item) && typeof item.index === "number" ? item.index : position;
      if (!Number.isInteger(index) || index < 0 || index >= inputs || vectors[index]) throw bad(`bad or repeated index ${index}`);
      const raw = isRecord(item) ? item.embedding : undefined;
      if (!Array.isArray(raw)) throw bad(`vector ${index} is not an array of numbers`);
      length ??= raw.length; // the first vector sets the length the rest of this response must match
      if (raw.length !== length || raw.length === 0) throw bad(`vector ${index} has ${raw.length} dimensions, expected ${length}`);
      const v = new Float32Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const x: unknown = raw[i];
        if (typeof x !== "number") throw bad(`vector ${index} has a non-number at ${i}`);
        v[i] = x;
        // Checked after the float32 cast: a finite double such as 1e39 still overflows to Infinity.
        if (!Number.isFinite(v[i])) throw bad(`vector ${index} has a non-finite value at ${i}`);
      }
      vectors[index] = v;
    });
    // Only a response that passed every check may fix the instance's dimension.
    this.learnedDimensions ??= length;
    return vectors as Float32Array[];
  }

  /** Messages name provider, model, host and status only: upstream bodies and SDK messages can echo keys or prompts. */
  private toEmbeddingsError(err: unknown): unknown {
    if (err instanceof EmbeddingsError) return err;
    let host = "";
    try {
      host = ` at ${new URL(this.options.baseURL).host}`;
    } catch {}
    const where = `Embeddings request to ${this.provider} (${this.model})${host} failed`;
    const status = statusOf(err);
    if (status !== undefined) {
      const requestId = headerOf(err, "x-request-id");
      const id = requestId && /^[\w.:-]{1,128}$/.test(requestId) ? `, request id ${requestId}` : "";
      // No cause: the SDK's APIError carries the upstream body.
      return new EmbeddingsError("EMBEDDINGS_FAILED", `${where}: HTTP ${status}${id}`);
    }
    if (isRecord(err) && err.name === "TimeoutError") {
      return new EmbeddingsError("EMBEDDINGS_FAILED", `${where}: no response within ${this.options.timeoutMs} ms`, err);
    }
    const code = transportCode(err);
    if (code) return new EmbeddingsError("EMBEDDINGS_FAILED", `${where}: connection error (${code})`, err);
    const name = err instanceof Error ? err.name : typeof err;
    return new EmbeddingsError("EMBEDDINGS_FAILED", `${where}: ${name}`);
  }
}
