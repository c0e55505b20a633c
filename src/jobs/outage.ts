/**
 * How jobs wait out a Gemini outage (circuit breaker open, or transient faults outlasting the
 * in-call retries): the job is added again for later instead of failing, and the attempt does not
 * count, so an outage delays work instead of losing it. After `windowMs` since the work was
 * requested, an outage counts as an ordinary failure.
 */
export const OUTAGE_POLICY = {
  /** Matches the circuit breaker's reset time, so the next try finds it half-open. */
  retryDelayMs: 30_000,
  windowMs: 24 * 60 * 60 * 1000,
} as const;

/** When to try again after an outage, or undefined once the outage window has passed. */
export function outageRetryAt(requestedAt: Date, retryDelayMs: number = OUTAGE_POLICY.retryDelayMs, now = new Date()): Date | undefined {
  if (now.getTime() - requestedAt.getTime() > OUTAGE_POLICY.windowMs) return undefined;
  return new Date(now.getTime() + retryDelayMs);
}
