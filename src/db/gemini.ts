import { z } from "zod";
import type { Queryable } from "./pool.ts";

/** The limits one acquire is checked against; an unset limit is no limit. */
export interface SlotRequest {
  rpm: number | undefined;
  tpm: number | undefined;
  tokens: number;
  windowMs: number;
  /** Reserve nothing when the wait would be longer than this. */
  maxWaitMs: number;
}

/** A reserved slot (send after `waitMs`), or, when not granted, how long the wait would have been. */
export interface SlotAnswer {
  granted: boolean;
  waitMs: number;
}

/** Reserves the earliest Gemini request slot in the shared sliding window (one statement; see migration 0011). */
export async function acquireGeminiSlot(db: Queryable, request: SlotRequest): Promise<SlotAnswer> {
  const { rows } = await db.query(
    "select granted, wait_ms from iepgen_gemini_acquire($1, $2, $3, $4, $5)",
    [request.rpm ?? null, request.tpm ?? null, request.tokens, request.windowMs, request.maxWaitMs],
  );
  return { granted: rows[0].granted as boolean, waitMs: rows[0].wait_ms as number };
}

/** One per-minute count of Gemini call outcomes. */
export interface GeminiCallCount {
  minute: Date;
  operation: string;
  kind: string;
  count: number;
}

/**
 * Adds counts to gemini_call_stats in one upsert (rows sorted, so concurrent flushes lock in the
 * same order), and prunes counts older than a week in the same statement.
 */
export async function addGeminiCallCounts(db: Queryable, counts: GeminiCallCount[]): Promise<void> {
  const rows = [...counts].sort((a, b) =>
    a.minute.getTime() - b.minute.getTime() || a.operation.localeCompare(b.operation) || a.kind.localeCompare(b.kind));
  await db.query(
    `with pruned as (delete from gemini_call_stats where minute < now() - interval '7 days')
     insert into gemini_call_stats (minute, operation, kind, calls)
     select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[])
     on conflict (minute, operation, kind) do update set calls = gemini_call_stats.calls + excluded.calls`,
    [rows.map((r) => r.minute), rows.map((r) => r.operation), rows.map((r) => r.kind), rows.map((r) => r.count)],
  );
}

const KindCountRow = z.object({ operation: z.string(), kind: z.string(), count: z.number() });
export type GeminiKindCount = z.infer<typeof KindCountRow>;

/** Gemini call outcomes of every process in the last hour (by the minute), by operation and kind. */
export async function geminiCallsLastHour(db: Queryable): Promise<GeminiKindCount[]> {
  const { rows } = await db.query(
    `select operation, kind, sum(calls)::int as count from gemini_call_stats
     where minute >= date_trunc('minute', now() - interval '1 hour')
     group by operation, kind order by operation, kind`,
  );
  return rows.map((row) => KindCountRow.parse(row));
}

const QuotaUsageRow = z.object({ granted_last_minute: z.number(), tokens_last_minute: z.number(), reserved_ahead: z.number() });
export type GeminiQuotaUsage = z.infer<typeof QuotaUsageRow>;

/** Rate-limit slots granted in the last 60 s (and their estimated tokens), and slots reserved for later. */
export async function geminiQuotaUsage(db: Queryable): Promise<GeminiQuotaUsage> {
  const { rows } = await db.query(
    `select (count(*) filter (where at <= now()))::int as granted_last_minute,
            (coalesce(sum(tokens) filter (where at <= now()), 0))::int as tokens_last_minute,
            (count(*) filter (where at > now()))::int as reserved_ahead
     from gemini_quota_grants where at > now() - interval '60 seconds'`,
  );
  return QuotaUsageRow.parse(rows[0]);
}
