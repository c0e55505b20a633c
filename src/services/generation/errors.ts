/** The generation was cancelled while it ran; its row already says CANCELLED. */
export class GenerationCancelledError extends Error {
  override readonly name = "GenerationCancelledError";
  constructor(generationId: string) {
    super(`generation ${generationId} was cancelled`);
  }
}

/** A failure that retrying cannot fix (no evidence, student gone, Gemini rejected the request). */
export class PermanentGenerationError extends Error {
  override readonly name = "PermanentGenerationError";
}

/** The model's draft failed validation (schema or IDEA rules); another attempt may do better. */
export class DraftRejectedError extends Error {
  override readonly name = "DraftRejectedError";
}

/**
 * The run no longer owns its generation: it was cancelled, or presumed dead and recovered by
 * another worker. The run stops and writes nothing more.
 */
export class RunSupersededError extends Error {
  override readonly name = "RunSupersededError";
  constructor(generationId: string) {
    super(`generation ${generationId} is no longer this run's (cancelled or taken over)`);
  }
}
