/**
 * The simulator's quota: like Google's per-minute limit, at most `rpm` requests are answered in any
 * sliding window of `windowMs` (default 60 s); beyond it a request gets 429 RESOURCE_EXHAUSTED with
 * a RetryInfo delay until the oldest answered request leaves the window. Rejected requests do not
 * use the quota.
 */

/** A quota to enforce: `rpm` requests per `windowMs` (default 60 000; tests shorten it). */
export interface SimulatorQuota {
  rpm: number;
  windowMs?: number;
}

/** The quota in force and how many requests it rejected since it was set. */
export interface SimulatorQuotaState {
  rpm: number;
  windowMs: number;
  rejected: number;
}

export interface QuotaWindow {
  set(quota: SimulatorQuota | undefined): void;
  state(): SimulatorQuotaState | undefined;
  /** Admits a request arriving at `now` (ms), or returns how long until one would be admitted. */
  admit(now: number): { admitted: true } | { admitted: false; retryAfterMs: number };
}

export const DEFAULT_SIMULATOR_QUOTA_WINDOW_MS = 60_000;

export function createQuotaWindow(initial?: SimulatorQuota): QuotaWindow {
  let quota: { rpm: number; windowMs: number } | undefined;
  let admitted: number[] = [];
  let rejected = 0;

  const set = (next: SimulatorQuota | undefined) => {
    quota = next && validQuota(next);
    admitted = [];
    rejected = 0;
  };
  set(initial);

  return {
    set,
    state: () => (quota ? { ...quota, rejected } : undefined),
    admit(now) {
      if (!quota) return { admitted: true };
      const { rpm, windowMs } = quota;
      admitted = admitted.filter((at) => at > now - windowMs);
      if (admitted.length < rpm) {
        admitted.push(now);
        return { admitted: true };
      }
      rejected += 1;
      return { admitted: false, retryAfterMs: admitted[admitted.length - rpm]! + windowMs - now };
    },
  };
}

function validQuota(quota: SimulatorQuota): { rpm: number; windowMs: number } {
  const windowMs = quota.windowMs ?? DEFAULT_SIMULATOR_QUOTA_WINDOW_MS;
  if (!Number.isInteger(quota.rpm) || quota.rpm < 1) throw new RangeError(`rpm must be a positive integer, got ${quota.rpm}`);
  if (!Number.isFinite(windowMs) || windowMs < 1) throw new RangeError(`windowMs must be a positive number of ms, got ${windowMs}`);
  return { rpm: quota.rpm, windowMs };
}
