/**
 * Fairness across schools: school A queues a 200-draft `generateIeps` batch (quick: 40), then
 * school B queues one `generateIep`; one worker child at concurrency 4, the simulator at 100 ms per
 * call (a draft takes a few hundred ms). Figure: B's wait (created → started, database clock) next to
 * one draft's duration (p50 of A's drafts, started → finished). Target: ≤ 2 × one draft. Without
 * fair scheduling B waits behind A's whole batch (≈ 200 ÷ 4 drafts).
 */
import type pg from "pg";
import { enqueue, ENQUEUE_BATCH, graphqlClient, seedStudents } from "./lib/graphql.ts";
import { round, summarize, type Bench } from "./lib/report.ts";
import { createBenchStack, waitUntil } from "./lib/stack.ts";

const CONCURRENCY = 4;
const SIMULATOR_LATENCY_MS = 100;

export const run: Bench = async ({ quick }) => {
  const batchSize = quick ? 40 : 200;
  const stack = await createBenchStack();
  try {
    const [schoolA, schoolB] = [await stack.tenant(), await stack.tenant()];
    const [api] = await Promise.all([stack.startApi(), stack.startWorker({ WORKER_CONCURRENCY: String(CONCURRENCY) })]);
    const studentsA = await seedStudents(stack.pool, schoolA, batchSize, { ingested: true });
    const [studentB] = await seedStudents(stack.pool, schoolB, 1, { ingested: true });
    stack.simulator.setLatencyMs(SIMULATOR_LATENCY_MS);

    const batch = await graphqlClient(api.graphqlUrl, schoolA.token)(ENQUEUE_BATCH, { studentIds: studentsA });
    if (batch?.generateIeps?.__typename !== "GenerateIepsSuccess") throw new Error(`generateIeps did not queue: ${JSON.stringify(batch)}`);
    const idB = await enqueue(graphqlClient(api.graphqlUrl, schoolB.token), studentB!);
    const waitB = await waitUntil(async () => {
      const { rows } = await stack.pool.query<{ ms: number | null }>(
        "select extract(epoch from started_at - created_at) * 1000 as ms from generations where id = $1", [idB]);
      return rows[0]?.ms ?? undefined;
    }, 180_000, "school B's generation to start");
    const aheadOfB = await aStartedBefore(stack.pool, schoolA.schoolId, idB);
    await waitUntil(async () => (await draftDurations(stack.pool, schoolA.schoolId)).length >= CONCURRENCY, 60_000, "A's first drafts to finish");
    const drafts = summarize(await draftDurations(stack.pool, schoolA.schoolId));
    const limit = 2 * drafts.p50;
    return {
      bench: "fairness",
      figures: [{
        name: `school B's wait behind A's ${batchSize}-draft batch`, value: round(waitB), unit: "ms",
        baseline: { name: "one draft's duration p50", value: drafts.p50, unit: "ms" },
        target: `≤ 2 × baseline (${round(limit)} ms)`, pass: waitB <= limit,
      }],
      raw: { batchSize, concurrency: CONCURRENCY, simulatorLatencyMs: SIMULATOR_LATENCY_MS, waitBMs: round(waitB), draftMs: drafts, aDraftsStartedBeforeB: aheadOfB },
    };
  } finally {
    await stack.close();
  }
};

async function draftDurations(pool: pg.Pool, schoolId: string): Promise<number[]> {
  const { rows } = await pool.query<{ ms: number }>(
    "select extract(epoch from finished_at - started_at) * 1000 as ms from generations where school_id = $1 and status = 'SUCCEEDED'", [schoolId]);
  return rows.map((row) => Number(row.ms));
}

async function aStartedBefore(pool: pg.Pool, schoolId: string, idB: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "select count(*)::int as n from generations a where a.school_id = $1 and a.started_at < (select started_at from generations where id = $2)", [schoolId, idB]);
  return rows[0]!.n;
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
