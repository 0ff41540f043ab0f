/**
 * Model providers as data. Every preset speaks the OpenAI wire protocol; `baseURL`, models and the key can all be
 * overridden. `keyEnv` is the provider's conventional key variable, read as a fallback when LLM_API_KEY /
 * EMBEDDINGS_API_KEY is not set.
 */
export interface ProviderPreset {
  name: string;
  label: string;
  baseURL: string;
  chatModel: string;
  embeddingModel: string;
  /** Whether the provider needs an API key (Ollama does not). */
  requiresKey: boolean;
  keyEnv?: string;
  /** Most inputs one embeddings request may carry (the provider rejects larger batches). */
  maxEmbeddingBatch?: number;
  /** False when the provider has no embeddings endpoint. */
  embeddings?: boolean;
}

export const PROVIDER_PRESETS = {
  openai: {
    name: "openai",
    label: "OpenAI",
    baseURL: "https://api.openai.com/v1",
    chatModel: "gpt-4o-mini",
    embeddingModel: "text-embedding-3-small",
    requiresKey: true,
    keyEnv: "OPENAI_API_KEY",
  },
  zhipu: {
    name: "zhipu",
    label: "Zhipu GLM",
    baseURL: "https://open.bigmodel.cn/api/paas/v4",
    chatModel: "glm-4-flash",
    embeddingModel: "embedding-3",
    requiresKey: true,
    keyEnv: "ZHIPUAI_API_KEY",
  },
  qwen: {
    name: "qwen",
    label: "Qwen (DashScope)",
    baseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1",
    chatModel: "qwen-plus",
    embeddingModel: "text-embedding-v3",
    requiresKey: true,
    keyEnv: "DASHSCOPE_API_KEY",
    // DashScope's text-embedding-v3/v4 accept at most 10 inputs per request.
    maxEmbeddingBatch: 10,
  },
  deepseek: {
    name: "deepseek",
    label: "DeepSeek",
    baseURL: "https://api.deepseek.com/v1",
    chatModel: "deepseek-chat",
    // DeepSeek offers no embeddings endpoint: EMBEDDINGS_PROVIDER=deepseek is refused at start-up.
    embeddingModel: "",
    requiresKey: true,
    keyEnv: "DEEPSEEK_API_KEY",
    embeddings: false,
  },
  ollama: {
    name: "ollama",
    label: "Ollama",
    baseURL: "http://127.0.0.1:11434/v1",
    chatModel: "qwen2.5:7b",
    embeddingModel: "bge-m3",
    requiresKey: false,
  },
  "openai-compatible": {
    name: "openai-compatible",
    label: "OpenAI-compatible",
    baseURL: "http://127.0.0.1:8000/v1",
    chatModel: "default",
    embeddingModel: "default",
    requiresKey: false,
  },
} as const satisfies Record<string, ProviderPreset>;

export type PresetName = keyof typeof PROVIDER_PRESETS;
export const PRESET_NAMES = Object.keys(PROVIDER_PRESETS) as PresetName[];

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PROVIDER_PRESETS, name);
}
