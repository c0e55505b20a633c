import { GoogleGenAI } from "@google/genai";
import type { Logger } from "../logger.ts";
import { countGeminiTokens } from "../monitoring/metrics.ts";
import type { GeminiCallStats } from "./call-stats.ts";
import { estimateTokens, type GeminiQuota, type GeminiQuotaConfig } from "./quota.ts";
import { createResilientCaller, type ResilienceOptions, type ResilientCaller } from "./resilience.ts";

/** Output size iepgen stores (evidence_chunks.embedding is vector(768)). */
export const EMBEDDING_DIMENSIONS = 768;
/** batchEmbedContents accepts at most 100 texts per request. */
export const EMBEDDING_BATCH_SIZE = 100;

export type EmbeddingTask = "RETRIEVAL_DOCUMENT" | "RETRIEVAL_QUERY";

export interface GeminiConfig {
  apiKey: string;
  /** Where the SDK sends requests; unset means Google. The simulator's URL in tests and offline demos. */
  baseUrl?: string;
  model: string;
  embeddingModel: string;
  timeoutMs: number;
  resilience: ResilienceOptions;
  /** True when baseUrl is iepgen's own simulator (shown in logs and /healthz). */
  simulated: boolean;
  /** The rate limit shared by every process (GEMINI_RPM, GEMINI_TPM, GEMINI_QUOTA_WAIT_MS); unset: none. */
  quota?: GeminiQuotaConfig;
}

/** The Postgres side of a gateway (see startGeminiServices in quota.ts): the shared rate limit and call statistics. */
export interface GeminiGatewayServices {
  quota?: GeminiQuota;
  stats?: GeminiCallStats;
}

/** A structured-output request streamed from the drafting model. */
export interface StreamJsonRequest {
  systemInstruction: string;
  prompt: string;
  responseJsonSchema: object;
  /** Each piece of text as it arrives. */
  onDelta: (text: string) => void;
  /** Called before a retry re-streams from the start, so partial text can be discarded. */
  onRestart?: (attempt: number, reason: string) => void;
  signal?: AbortSignal;
}

/** Every Gemini call iepgen makes goes through this gateway (official SDK, breaker, bounded retries). */
export interface Gemini {
  readonly config: GeminiConfig;
  readonly sdk: GoogleGenAI;
  readonly caller: ResilientCaller;
  /** This process's call statistics, when they are kept (flush() saves them now). */
  readonly stats?: GeminiCallStats;
  /** Embeds texts in batches; returns one L2-normalised 768-dim vector per text, in order. */
  embed(texts: readonly string[], task: EmbeddingTask, signal?: AbortSignal): Promise<number[][]>;
  /** Streams a JSON answer constrained by `responseJsonSchema`; resolves with the whole text. */
  streamJson(request: StreamJsonRequest): Promise<{ text: string; model: string }>;
}

/** The token counts Gemini reports on a response (the last chunk of a stream). */
type GeminiUsage = { promptTokenCount?: number; candidatesTokenCount?: number };

export function createGemini(config: GeminiConfig, logger: Logger, services: GeminiGatewayServices = {}): Gemini {
  const sdk = new GoogleGenAI({
    apiKey: config.apiKey,
    httpOptions: { apiVersion: "v1beta", timeout: config.timeoutMs, ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}) },
  });
  const caller = createResilientCaller("gemini", config.resilience, logger, services);

  async function embedBatch(texts: string[], task: EmbeddingTask, signal?: AbortSignal): Promise<number[][]> {
    const response = await caller.call(
      "embed",
      () =>
        sdk.models.embedContent({
          model: config.embeddingModel,
          contents: texts,
          config: { outputDimensionality: EMBEDDING_DIMENSIONS, taskType: task, ...(signal ? { abortSignal: signal } : {}) },
        }),
      signal,
      estimateTokens(...texts),
    );
    countGeminiTokens("embed", (response as { usageMetadata?: GeminiUsage }).usageMetadata);
    const vectors = (response.embeddings ?? []).map((embedding) => embedding.values ?? []);
    if (vectors.length !== texts.length || vectors.some((v) => v.length !== EMBEDDING_DIMENSIONS)) {
      throw new Error(`Gemini returned ${vectors.length} embeddings for ${texts.length} texts, or of the wrong size`);
    }
    return vectors.map(normalize);
  }

  async function streamJson(request: StreamJsonRequest): Promise<{ text: string; model: string }> {
    let attempt = 0;
    const text = await caller.call(
      "draft",
      async () => {
        attempt += 1;
        if (attempt > 1) request.onRestart?.(attempt, "transient Gemini failure");
        const stream = await sdk.models.generateContentStream({
          model: config.model,
          contents: request.prompt,
          config: {
            systemInstruction: request.systemInstruction,
            responseMimeType: "application/json",
            responseJsonSchema: request.responseJsonSchema,
            temperature: 0.2,
            ...(request.signal ? { abortSignal: request.signal } : {}),
          },
        });
        let whole = "";
        let usage: GeminiUsage | undefined;
        for await (const chunk of stream) {
          usage = chunk.usageMetadata ?? usage;
          const piece = chunk.text ?? "";
          if (piece === "") continue;
          whole += piece;
          request.onDelta(piece);
        }
        countGeminiTokens("draft", usage);
        return whole;
      },
      request.signal,
      estimateTokens(request.systemInstruction, request.prompt),
    );
    return { text, model: config.model };
  }

  return {
    config,
    sdk,
    caller,
    stats: services.stats,
    streamJson,
    async embed(texts, task, signal) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += EMBEDDING_BATCH_SIZE) {
        vectors.push(...(await embedBatch(texts.slice(start, start + EMBEDDING_BATCH_SIZE), task, signal)));
      }
      return vectors;
    },
  };
}

/** Google recommends normalising gemini-embedding-001 output below 3072 dimensions. */
function normalize(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((value) => value / norm);
}
