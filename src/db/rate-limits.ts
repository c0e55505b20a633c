import { z } from "zod";
import type { Queryable } from "./pool.ts";

/** Whose budget: a user's own, or their school's. */
export type RateScope = "user" | "school";

/** One budget's counts after this request was added (all in database time). */
export const RateWindow = z.object({
  scope: z.enum(["user", "school"]),
  /** Hits in the current minute, this request's cost included. */
  hits: z.number().int(),
  /** Hits in the minute before. */
  previous_hits: z.number().int(),
  /** Seconds since the current minute began (0 ≤ elapsed < 60). */
  elapsed_seconds: z.number(),
});
export type RateWindow = z.infer<typeof RateWindow>;

/**
 * CTEs `swept` and `counted` that add `cost` hits to the user's and the school's counters for the
 * current minute (only when `when` is true), and delete up to 100 counters older than the previous
 * minute; `rateWindowsSql` then reads both budgets from `counted`. Placeholders are SQL expressions
 * of the caller's statement. The counter rows stay locked until the statement's transaction ends
 * (concurrent requests from any process queue behind it and see its hits), and a rollback takes
 * the hits back. User rows are always locked before school rows, so two requests never wait on
 * each other in a cycle.
 */
export function countHitsSql(p: { userId: string; schoolId: string; cost: string; when: string }): string {
  return `swept as (
       delete from rate_limit_counters where ctid = any(array(
         select ctid from rate_limit_counters where window_start < date_trunc('minute', now()) - interval '1 minute'
         limit 100 for update skip locked))
     ), counted as (
       insert into rate_limit_counters as c (scope, subject, window_start, hits)
       select scope, subject, date_trunc('minute', now()), ${p.cost}
       from (values ('user', ${p.userId}::uuid, 1), ('school', ${p.schoolId}::uuid, 2)) as s(scope, subject, ord)
       where ${p.when}
       order by ord
       on conflict (scope, subject, window_start) do update set hits = c.hits + excluded.hits
       returning c.scope, c.subject, c.window_start, c.hits
     )`;
}

/** The budgets `counted` (countHitsSql) touched, as RateWindow rows, with the previous minute's hits. */
export const RATE_WINDOWS_SQL = `select counted.scope, counted.hits, coalesce(previous.hits, 0) as previous_hits,
            extract(epoch from now() - counted.window_start)::float8 as elapsed_seconds
     from counted
     left join rate_limit_counters previous on previous.scope = counted.scope and previous.subject = counted.subject
       and previous.window_start = counted.window_start - interval '1 minute'`;

/**
 * Adds `cost` hits to the user's and the school's counters for the current minute and returns
 * both with the previous minute's count, in ONE statement (see countHitsSql). Run it inside the
 * request's transaction, so a refusal's rollback takes the hits back.
 */
export async function addHits(db: Queryable, subjects: { userId: string; schoolId: string }, cost: number): Promise<RateWindow[]> {
  const { rows } = await db.query(
    `with ${countHitsSql({ userId: "$1", schoolId: "$2", cost: "$3::int", when: "true" })}
     ${RATE_WINDOWS_SQL}`,
    [subjects.userId, subjects.schoolId, cost],
  );
  return rows.map((row) => RateWindow.parse(row));
}
