import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { LlmConfig } from "../config/config.ts";
import { retryPolicy } from "./upstream-http.ts";

/** Servers without auth (Ollama, local vLLM) still get a bearer header: the OpenAI client refuses to run without one. */
const PLACEHOLDER_KEY = "not-needed";

/**
 * A LangChain ChatOpenAI for any preset: presets differ only in data (base URL, model, key). LangChain's AsyncCaller is
 * the one retry layer (bounded by LLM_MAX_RETRIES, with our transient-error rule and Retry-After); the SDK's own
 * retries are off. The request signal is joined to the SDK's, so a client that goes away cancels the upstream call.
 * Imported lazily by the composition roots: the OpenAI stack costs ~0.9 s of start-up that offline mode never needs.
 */
export async function createChatModel(config: LlmConfig, opts: { streaming?: boolean } = {}): Promise<BaseChatModel> {
  const { ChatOpenAI } = await import("@langchain/openai");
  return new ChatOpenAI({
    model: config.model,
    apiKey: config.apiKey ?? PLACEHOLDER_KEY,
    temperature: config.temperature,
    timeout: config.timeoutMs,
    maxRetries: config.maxRetries,
    streaming: opts.streaming ?? false,
    streamUsage: true,
    onFailedAttempt: (err: unknown) => retryPolicy(err),
    configuration: {
      baseURL: config.baseURL,
      // Config is the only reader of the environment: keep OPENAI_ORG_ID / OPENAI_PROJECT_ID out of other providers.
      organization: null,
      project: null,
      // The SDK's own console lines ("Could not parse message into JSON:") would break the one-JSON-object-per-line
      // log; every SDK failure reaches us as an exception and is logged by the server with its request id.
      logLevel: "off",
    },
  });
}
