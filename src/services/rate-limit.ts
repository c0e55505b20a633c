import type { Viewer } from "../auth.ts";
import pg from "pg";
import { z } from "zod";
import { addHits, RateWindow } from "../db/rate-limits.ts";
import type { Queryable } from "../db/pool.ts";
import { RateLimitedError, ValidationError, type RateLimitScope } from "../errors.ts";
import type { SecurityConfig } from "../security.ts";

/** Generation requests allowed per rolling minute (`ctx.deps.security.rateLimits`). */
export type RateLimits = SecurityConfig["rateLimits"];

const WINDOW_SECONDS = 60;

/**
 * Counts `cost` generation requests (a batch counts as its size) against the caller's per-user and
 * per-school budgets, shared by every API process through Postgres. Call it first inside the
 * transaction that writes the request: if either budget is exceeded it throws RateLimitedError and
 * the rollback takes the hits back, so nothing at all is written. A cost no budget can ever hold is
 * a ValidationError on `costPath`.
 */
export async function takeGenerationQuota(db: Queryable, viewer: Viewer, limits: RateLimits, cost: number, costPath: string[] = []): Promise<void> {
  checkCost(limits, cost, costPath);
  const windows = await addHits(db, { userId: viewer.userId, schoolId: viewer.schoolId }, cost);
  const refused = firstRefusal(windows, limits, cost);
  if (refused) throw refused;
}

/** A cost no budget can ever hold is a ValidationError on `costPath`. */
export function checkCost(limits: RateLimits, cost: number, costPath: string[] = []): void {
  const most = Math.min(limits.userPerMinute, limits.schoolPerMinute);
  if (cost > most) {
    throw ValidationError.fromFieldErrors([{ path: costPath, message: `must ask for at most ${most} generations at once (the per-minute rate limit)` }]);
  }
}

/**
 * The RateLimitedError a statement that raised SQLSTATE IE429 (iepgen_refuse_over_limit, windows
 * in DETAIL) stands for; anything else is returned unchanged.
 */
export function rateLimitedFromDatabase(error: unknown, limits: RateLimits, cost: number): unknown {
  if (!(error instanceof pg.DatabaseError) || error.code !== "IE429") return error;
  const windows = z.array(RateWindow).parse(JSON.parse(error.detail ?? "[]"));
  return firstRefusal(windows, limits, cost) ?? error;
}

function firstRefusal(windows: readonly RateWindow[], limits: RateLimits, cost: number): RateLimitedError | undefined {
  return windows
    .map((window) => refusal(window, window.scope === "user" ? limits.userPerMinute : limits.schoolPerMinute, cost))
    .filter((r): r is RateLimitedError => r !== undefined)
    .sort((a, b) => b.retryAfter - a.retryAfter)[0];
}

/**
 * The sliding-window estimate: this minute's hits plus the previous minute's, weighted by the part
 * of it still inside the last 60 s. Over the limit → the error to throw.
 */
function refusal(window: RateWindow, limit: number, cost: number): RateLimitedError | undefined {
  const carried = window.previous_hits * (1 - window.elapsed_seconds / WINDOW_SECONDS);
  if (window.hits + carried <= limit) return undefined;
  const scope: RateLimitScope = window.scope === "user" ? "USER" : "SCHOOL";
  return new RateLimitedError(scope, limit, Math.max(1, Math.ceil(secondsUntilAllowed(window, limit, cost))));
}

/** When the same request would fit, if nobody else asks meanwhile. */
export function secondsUntilAllowed(window: RateWindow, limit: number, cost: number): number {
  const before = window.hits - cost;
  const elapsed = window.elapsed_seconds;
  const room = limit - before - cost;
  if (room >= 0 && window.previous_hits > 0) {
    // Still this minute: wait for enough of the previous minute to slide out.
    const at = WINDOW_SECONDS * (1 - room / window.previous_hits);
    if (at < WINDOW_SECONDS) return Math.max(0, at - elapsed);
  }
  // Next minute: this minute's hits become the previous minute's and slide out in turn.
  const slideOut = before > limit - cost ? WINDOW_SECONDS * (1 - (limit - cost) / before) : 0;
  return WINDOW_SECONDS - elapsed + slideOut;
}
