/**
 * What a failed run means, decided in one place for every task (evidence ingestion and generation).
 *
 * | kind          | what happened                                        | what the task does                    |
 * |---------------|------------------------------------------------------|---------------------------------------|
 * | `cancelled`   | cancelled on request, or the run was taken over      | stops; writes nothing more            |
 * | `interrupted` | this worker is shutting down                         | requeues at once; attempt refunded    |
 * | `unavailable` | Gemini down for everyone, or the database unreachable | requeues after a delay; refunded      |
 * | `permanent`   | retrying cannot help (no evidence, request rejected, | FAILED now                            |
 * |               | a file that cannot be read)                          |                                       |
 * | `retryable`   | this attempt failed (bad draft, timeouts, a bug)     | requeues with backoff; attempt counts |
 */
import { ExtractionError } from "../extraction/errors.ts";
import { GeminiRequestError, GeminiUnavailableError, messageOf } from "../gemini/resilience.ts";
import { GenerationCancelledError, PermanentGenerationError, RunSupersededError } from "../services/generation/errors.ts";

export type FailureKind = "cancelled" | "interrupted" | "unavailable" | "permanent" | "retryable";

export interface Failure {
  kind: FailureKind;
  /** For `unavailable`: which dependency is down. */
  dependency?: "gemini" | "database";
  /** For `unavailable`: how long the server asked us to wait, when it said. */
  retryAfterMs?: number;
  /** For people: the error's message. */
  reason: string;
}

/** Postgres SQLSTATEs that mean the server went away or refuses connections, not that the query was wrong. */
const DATABASE_UNAVAILABLE_CODES = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004", "08006"]);
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN"]);
const DATABASE_GONE_MESSAGES = /Connection terminated|terminating connection|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed|Connection ended/i;

/** Whether an error says the database is unreachable (restarting, terminated connection, refused). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && (DATABASE_UNAVAILABLE_CODES.has(code) || SOCKET_CODES.has(code))) return true;
    if (DATABASE_GONE_MESSAGES.test(cause.message)) return true;
  }
  return false;
}

/**
 * Classifies a failed run. `signal` is the run's abort signal: aborted by a cancellation (its
 * reason a GenerationCancelledError) or by the worker shutting down.
 */
export function classifyFailure(error: unknown, signal?: AbortSignal): Failure {
  const reason = messageOf(error);
  if (error instanceof GenerationCancelledError || error instanceof RunSupersededError || signal?.reason instanceof GenerationCancelledError) {
    return { kind: "cancelled", reason };
  }
  if (signal?.aborted) return { kind: "interrupted", reason };
  if (error instanceof GeminiUnavailableError) {
    return { kind: "unavailable", dependency: "gemini", reason, ...(error.retryAfterMs ? { retryAfterMs: error.retryAfterMs } : {}) };
  }
  if (isDatabaseUnavailable(error)) return { kind: "unavailable", dependency: "database", reason };
  if (error instanceof PermanentGenerationError || error instanceof GeminiRequestError || error instanceof ExtractionError) {
    return { kind: "permanent", reason };
  }
  return { kind: "retryable", reason };
}
