import type { Env } from "../env.ts";
import type { Logger } from "../logger.ts";
import type { GeminiConfig } from "./client.ts";
import { startGeminiSimulator, type GeminiSimulator } from "./simulator/server.ts";

/** Placeholder key sent to the simulator (it accepts any key; Google would reject it). */
export const SIMULATOR_API_KEY = "iepgen-simulator";

export interface ResolvedGemini {
  config: GeminiConfig;
  /** The in-process simulator when one was started (no GEMINI_API_KEY outside production). */
  simulator?: GeminiSimulator;
}

/**
 * Decides where Gemini calls go. With GEMINI_API_KEY: Google (or GEMINI_BASE_URL). Without a key
 * outside production: GEMINI_BASE_URL if set (e.g. a standalone simulator), else an in-process
 * simulator, announced by a banner. In production a key is required: never a silent fallback.
 */
export async function resolveGemini(env: Env, logger: Logger): Promise<ResolvedGemini> {
  const base = {
    model: env.GEMINI_MODEL,
    embeddingModel: env.GEMINI_EMBEDDING_MODEL,
    timeoutMs: env.GEMINI_TIMEOUT_MS,
    resilience: { maxRetries: env.GEMINI_MAX_RETRIES, breaker: { resetTimeoutMs: env.OUTAGE_RETRY_DELAY_MS } },
    ...(env.GEMINI_RPM || env.GEMINI_TPM ? { quota: { rpm: env.GEMINI_RPM, tpm: env.GEMINI_TPM, waitMs: env.GEMINI_QUOTA_WAIT_MS } } : {}),
  };
  if (env.GEMINI_API_KEY) {
    return { config: { ...base, apiKey: env.GEMINI_API_KEY, baseUrl: env.GEMINI_BASE_URL, simulated: false } };
  }
  if (env.NODE_ENV === "production") {
    throw new Error("GEMINI_API_KEY is required when NODE_ENV=production (the Gemini simulator is for development and tests only)");
  }
  if (env.GEMINI_BASE_URL) {
    logger.warn({ baseUrl: env.GEMINI_BASE_URL }, "no GEMINI_API_KEY: sending Gemini calls to GEMINI_BASE_URL (a simulator?)");
    return { config: { ...base, apiKey: SIMULATOR_API_KEY, baseUrl: env.GEMINI_BASE_URL, simulated: true } };
  }
  const simulator = await startGeminiSimulator({ host: "127.0.0.1", port: 0, latencyMs: env.GEMINI_SIMULATOR_LATENCY_MS });
  printSimulatorBanner(simulator.url);
  return { config: { ...base, apiKey: SIMULATOR_API_KEY, baseUrl: simulator.url, simulated: true }, simulator };
}

function printSimulatorBanner(url: string): void {
  const lines = [
    "GEMINI SIMULATOR IN USE — no GEMINI_API_KEY is set.",
    `Embeddings and drafts come from iepgen's local simulator at ${url}, not from Google.`,
    "They are deterministic stand-ins for development and tests. Set GEMINI_API_KEY to use real Gemini.",
  ];
  const width = Math.max(...lines.map((l) => l.length)) + 4;
  const border = "*".repeat(width);
  process.stderr.write(`\n${border}\n${lines.map((l) => `* ${l.padEnd(width - 4)} *`).join("\n")}\n${border}\n\n`);
}
