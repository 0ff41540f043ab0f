import { inspect } from "node:util";
import { OpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { AppError } from "../../src/errors/app-error.ts";
import { createEmbeddingModel } from "../../src/providers/create-embedding-model.ts";
import { OpenAICompatibleEmbeddings, type OpenAICompatibleEmbeddingsOptions } from "../../src/providers/openai-compatible-embeddings.ts";
import { PRESET_NAMES, PROVIDER_PRESETS } from "../../src/providers/presets.ts";

// DeepSeek has no embeddings endpoint; config refuses it (tested in config.test.ts).
const EMBEDDING_PRESETS = PRESET_NAMES.filter((n) => (PROVIDER_PRESETS[n] as { embeddings?: boolean }).embeddings !== false);
import { type FakeOpenAI, fakeEmbedding, startFakeOpenAI } from "../helpers/fake-openai-server.ts";

const KEY = "sk-test-SECRET-0123456789";
const DIMS = 8;

let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({ dimensions: DIMS });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

function embedder(over: Partial<OpenAICompatibleEmbeddingsOptions> = {}): OpenAICompatibleEmbeddings {
  return new OpenAICompatibleEmbeddings({
    provider: "openai-compatible",
    model: "fake-embedding",
    baseURL: fake.url,
    apiKey: KEY,
    batchSize: 4,
    timeoutMs: 500,
    maxRetries: 0,
    ...over,
  });
}

/** Resolves to the rejection (failing if the promise resolves), so assertions can look at code and message. */
async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected the call to fail").toBeInstanceOf(AppError);
  return err as AppError;
}

const embeddingRequests = () => fake.requests.filter((r) => r.route === "embeddings");
const inputsOf = (body: unknown) => (body as { input: string[] | string }).input;

describe.each(EMBEDDING_PRESETS)("preset %s against the fake server", (name) => {
  const preset = PROVIDER_PRESETS[name];
  const basePath = new URL(preset.baseURL).pathname;
  const key = preset.requiresKey ? `sk-${name}-key` : undefined;

  it("calls its own path with its own key and model, and returns checked vectors", async () => {
    const config = loadConfig({
      EMBEDDINGS_PROVIDER: name,
      EMBEDDINGS_BASE_URL: `${fake.origin}${basePath}`,
      EMBEDDINGS_TIMEOUT_MS: "500",
      EMBEDDINGS_MAX_RETRIES: "0",
      ...(key ? { EMBEDDINGS_API_KEY: key } : {}),
    });
    const model = await createEmbeddingModel(config.embeddings);
    const vectors = await model.embedDocuments(["你好，世界", "hello world"]);

    expect(vectors.map((v) => Array.from(v))).toEqual([fakeEmbedding("你好，世界", DIMS), fakeEmbedding("hello world", DIMS)]);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(model.id).toBe(`${name}:${preset.embeddingModel}:${DIMS}`);

    const [req] = fake.requests;
    expect(fake.requests).toHaveLength(1);
    expect(req?.path).toBe(`${basePath}/embeddings`);
    // Ollama and the generic preset need no key; they still get a placeholder bearer, which such servers ignore.
    expect(req?.headers.authorization).toBe(`Bearer ${key ?? "not-needed"}`);
    expect(req?.body).toMatchObject({ model: preset.embeddingModel, input: ["你好，世界", "hello world"], encoding_format: "float" });
    expect(req?.body).not.toHaveProperty("dimensions");
    expect(req?.headers).not.toHaveProperty("openai-organization");
  });
});

describe("OpenAICompatibleEmbeddings: requests and results", () => {
  it("embeds a query as one input and learns the dimension from the first response", async () => {
    const model = embedder();
    expect(model.dimensions).toBe(0);
    const v = await model.embedQuery("什么是检索增强生成？");
    expect(Array.from(v)).toEqual(fakeEmbedding("什么是检索增强生成？", DIMS));
    expect(model.dimensions).toBe(DIMS);
    expect(model.id).toBe(`openai-compatible:fake-embedding:${DIMS}`);
  });

  it("probe() learns the dimension before any real work", async () => {
    const model = embedder();
    await expect(model.probe()).resolves.toBe(DIMS);
    expect(fake.requests).toHaveLength(1);
  });

  it("splits inputs into batchSize requests and keeps the input order", async () => {
    const texts = Array.from({ length: 10 }, (_, i) => `chunk ${i}\nsecond line`);
    const vectors = await embedder({ batchSize: 4 }).embedDocuments(texts);

    expect(vectors.map((v) => Array.from(v))).toEqual(texts.map((t) => fakeEmbedding(t, DIMS)));
    const sent = embeddingRequests().map((r) => inputsOf(r.body) as string[]);
    expect(sent.map((b) => b.length).sort()).toEqual([2, 4, 4]);
    // Newlines reach the server: the text embedded is the text stored.
    expect(sent.flat().sort()).toEqual([...texts].sort());
  });

  it("sends configured dimensions to the API and expects them back", async () => {
    const model = embedder({ dimensions: 16 });
    expect(model.id).toBe("openai-compatible:fake-embedding:16");
    const [v] = await model.embedDocuments(["a"]);
    expect(v).toHaveLength(16);
    expect(fake.requests[0]?.body).toMatchObject({ dimensions: 16 });
  });

  it("makes no request for an empty list", async () => {
    await expect(embedder().embedDocuments([])).resolves.toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("OpenAICompatibleEmbeddings: output checks", () => {
  it.each([
    ["one vector too few", { kind: "wrong-count", delta: -1 } as const],
    ["one vector too many", { kind: "wrong-count", delta: 1 } as const],
    ["a vector of the wrong length", { kind: "wrong-length", length: DIMS + 3, index: 1 } as const],
    ["a null value", { kind: "bad-value", value: null, index: 2 } as const],
    ["a string NaN", { kind: "bad-value", value: "NaN" } as const],
    ["a value beyond float32 range", { kind: "bad-value", value: 1e39 } as const],
  ])("rejects the whole call on %s", async (_, fault) => {
    fake.setFault("embeddings", fault);
    const err = await failure(embedder().embedDocuments(["a", "b", "c"]));
    expect(err.code).toBe("EMBEDDINGS_BAD_OUTPUT");
    expect(err.message).toContain("openai-compatible");
  });

  it("rejects a call when any one of its batches is bad, and does not retry bad output", async () => {
    fake.setFault("embeddings", { kind: "wrong-length", length: 3, times: 1 });
    const err = await failure(embedder({ batchSize: 2, maxRetries: 2 }).embedDocuments(["a", "b", "c", "d", "e"]));
    expect(err.code).toBe("EMBEDDINGS_BAD_OUTPUT");
    expect(embeddingRequests().length).toBeLessThanOrEqual(3);
  });

  it("holds later responses to the dimension learned first", async () => {
    const model = embedder();
    await model.embedQuery("first");
    fake.setFault("embeddings", { kind: "wrong-length", length: DIMS * 2 });
    const err = await failure(model.embedQuery("second"));
    expect(err.code).toBe("EMBEDDINGS_BAD_OUTPUT");
    expect(err.message).toContain(`expected ${DIMS}`);
    expect(model.dimensions).toBe(DIMS);
  });

  it("does not learn a dimension from a rejected response", async () => {
    const model = embedder();
    fake.setFault("embeddings", { kind: "wrong-length", length: 5, index: 1, times: 1 });
    await failure(model.embedDocuments(["a", "b"]));
    expect(model.dimensions).toBe(0);
    await model.embedQuery("c");
    expect(model.dimensions).toBe(DIMS);
  });

  it("treats a 200 that is not JSON as bad output", async () => {
    fake.setFault("embeddings", { kind: "status", status: 200, body: "OK but not JSON", contentType: "text/plain" });
    const err = await failure(embedder().embedQuery("a"));
    expect(err.code).toBe("EMBEDDINGS_BAD_OUTPUT");
  });
});

describe("OpenAICompatibleEmbeddings: upstream failures", () => {
  it("maps 401 to EMBEDDINGS_FAILED without the key or the body, and does not retry it", async () => {
    // Real providers echo (part of) the key in 401 bodies; the fake echoes all of it.
    fake.setFault("embeddings", {
      kind: "status",
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${KEY}. BODY-MARKER`, type: "invalid_request_error", code: "invalid_api_key" } },
      headers: { "x-request-id": "req_abc123" },
    });
    const err = await failure(embedder({ maxRetries: 2 }).embedQuery("a"));
    expect(err.code).toBe("EMBEDDINGS_FAILED");
    expect(err.message).toContain("HTTP 401");
    expect(err.message).toContain("openai-compatible");
    expect(err.message).toContain("req_abc123");
    const everything = inspect(err, { depth: 10 });
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain("BODY-MARKER");
    expect(fake.requests).toHaveLength(1);
  });

  it("maps 500 to EMBEDDINGS_FAILED", async () => {
    fake.setFault("embeddings", { kind: "status", status: 500, body: { error: { message: `boom ${KEY}` } } });
    const err = await failure(embedder().embedQuery("a"));
    expect(err.code).toBe("EMBEDDINGS_FAILED");
    expect(err.message).toContain("HTTP 500");
    expect(inspect(err, { depth: 10 })).not.toContain(KEY);
  });

  it("maps an HTML error page to EMBEDDINGS_FAILED without the page", async () => {
    fake.setFault("embeddings", {
      kind: "status",
      status: 502,
      contentType: "text/html",
      body: "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>",
    });
    const err = await failure(embedder().embedQuery("a"));
    expect(err.code).toBe("EMBEDDINGS_FAILED");
    expect(err.message).toContain("HTTP 502");
    expect(inspect(err, { depth: 10 })).not.toContain("<html>");
  });

  it("retries a 429 with Retry-After within maxRetries, then succeeds", async () => {
    fake.setFault("embeddings", { kind: "status", status: 429, headers: { "retry-after": "0" }, times: 1 });
    const v = await embedder({ maxRetries: 2 }).embedQuery("a");
    expect(Array.from(v)).toEqual(fakeEmbedding("a", DIMS));
    expect(fake.requests).toHaveLength(2);
  });

  it("gives up on a persistent 429 after exactly maxRetries retries", async () => {
    fake.setFault("embeddings", { kind: "status", status: 429, headers: { "retry-after": "0" } });
    const err = await failure(embedder({ maxRetries: 1 }).embedQuery("a"));
    expect(err.code).toBe("EMBEDDINGS_FAILED");
    expect(err.message).toContain("HTTP 429");
    // One retry layer: a second one (the SDK's) would multiply this count.
    expect(fake.requests).toHaveLength(2);
  });

  it("retries a 429 without Retry-After too (LangChain's default handler would not)", async () => {
    fake.setFault("embeddings", { kind: "status", status: 429, times: 1 });
    await embedder({ maxRetries: 1 }).embedQuery("a");
    expect(fake.requests).toHaveLength(2);
  });

  it("does not wait out a Retry-After longer than a minute", async () => {
    fake.setFault("embeddings", { kind: "status", status: 429, headers: { "retry-after": "3600" } });
    const err = await failure(embedder({ maxRetries: 3 }).embedQuery("a"));
    expect(err.message).toContain("HTTP 429");
    expect(fake.requests).toHaveLength(1);
  });

  it("fails a hanging server within the timeout and closes the connection", async () => {
    fake.setFault("embeddings", { kind: "hang" });
    const started = Date.now();
    const err = await failure(embedder({ timeoutMs: 300 }).embedQuery("a"));
    expect(err.code).toBe("EMBEDDINGS_FAILED");
    expect(err.message).toContain("no response within 300 ms");
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(fake.waitForAbort()).resolves.toMatchObject({ route: "embeddings" });
  });

  it("reports a refused connection", async () => {
    const closed = await startFakeOpenAI();
    const url = closed.url;
    await closed.close();
    const err = await failure(embedder({ baseURL: url }).embedQuery("a"));
    expect(err.code).toBe("EMBEDDINGS_FAILED");
    expect(err.message).toContain("ECONNREFUSED");
  });
});

describe("OpenAICompatibleEmbeddings: cancellation", () => {
  it("aborts the request in flight when the signal fires", async () => {
    fake.setFault("embeddings", { kind: "hang" });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const err = await embedder({ timeoutMs: 10_000 })
      .embedDocuments(["a", "b"], controller.signal)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(1000);
    // The upstream request itself was cancelled, not just abandoned.
    await expect(fake.waitForAbort(1000)).resolves.toMatchObject({ route: "embeddings" });
  });

  it("rejects at once with the signal's reason when already aborted, without a request", async () => {
    const reason = new DOMException("client went away", "AbortError");
    const err = await embedder()
      .embedQuery("a", AbortSignal.abort(reason))
      .catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(fake.requests).toHaveLength(0);
  });

  it("stops waiting during a retry backoff", async () => {
    fake.setFault("embeddings", { kind: "status", status: 503 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await embedder({ maxRetries: 3 })
      .embedQuery("a", controller.signal)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "AbortError" });
    // LangChain's first backoff alone is at least a second.
    expect(Date.now() - started).toBeLessThan(800);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("fake server wire format", () => {
  it("serves base64 embeddings the way the OpenAI SDK decodes them by default", async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 });
    const res = await client.embeddings.create({ model: "m", input: ["x", "y"] });
    expect(fake.requests[0]?.body).toMatchObject({ encoding_format: "base64" });
    expect(res.data.map((d) => Array.from(d.embedding))).toEqual([fakeEmbedding("x", DIMS), fakeEmbedding("y", DIMS)]);
  });
});
