/**
 * The shared Gemini rate limit: two worker children with GEMINI_RPM=120 and 300 drafts queued
 * (quick: RPM 20, 30 drafts). The simulator enforces the same quota (429 beyond it, sliding 60 s
 * window) and logs every request it sees. Observed for at most 3 minutes (quick: 15 s) or until
 * every draft is finished. Figures: the most requests the simulator saw in any 60 s window
 * (≤ RPM) and its 429s (0). Baseline in the same run: the requests per minute one unlimited worker
 * at the same total concurrency sends for the same kind of drafts (the demand the limit holds back).
 */
import type pg from "pg";
import { ENQUEUE_BATCH, graphqlClient, seedStudents, type Gql } from "./lib/graphql.ts";
import { atMost, round, type Bench } from "./lib/report.ts";
import { createBenchStack, waitUntil } from "./lib/stack.ts";

const WINDOW_MS = 60_000;
const WORKERS = 2;
const CONCURRENCY_PER_WORKER = 4;
const BASELINE_DRAFTS = 8;

export const run: Bench = async ({ quick }) => {
  const rpm = quick ? 20 : 120;
  const drafts = quick ? 30 : 300;
  const observeMs = quick ? 15_000 : 180_000;
  const stack = await createBenchStack();
  try {
    const tenant = await stack.tenant();
    const [api, unlimited] = await Promise.all([stack.startApi(), stack.startWorker({ WORKER_CONCURRENCY: String(WORKERS * CONCURRENCY_PER_WORKER) })]);
    const students = await seedStudents(stack.pool, tenant, drafts, { ingested: true });
    const gql = graphqlClient(api.graphqlUrl, tenant.token);
    const baselineStart = Date.now();
    await queueDrafts(gql, students.slice(0, BASELINE_DRAFTS));
    await waitUntil(async () => (await unfinished(stack.pool)) === 0, 60_000, "the baseline drafts to finish");
    const baselineRequests = stack.simulator.requests.filter((request) => request.at.getTime() >= baselineStart).length;
    const unlimitedPerMinute = baselineRequests / ((Date.now() - baselineStart) / 60_000);
    await unlimited.stop();

    stack.simulator.setQuota({ rpm, windowMs: WINDOW_MS });
    await Promise.all(Array.from({ length: WORKERS }, () => stack.startWorker({ WORKER_CONCURRENCY: String(CONCURRENCY_PER_WORKER), GEMINI_RPM: String(rpm) })));
    const observedFrom = Date.now();
    await queueDrafts(gql, students);
    await waitUntil(async () => Date.now() - observedFrom >= observeMs || (await unfinished(stack.pool)) === 0, observeMs + 10_000, "the observation to end");
    const seen = stack.simulator.requests.filter((request) => request.at.getTime() >= observedFrom);
    const maxWindow = maxInWindow(seen.map((request) => request.at.getTime()), WINDOW_MS);
    const rejected = seen.filter((request) => request.rateLimited).length;
    const finished = drafts - (await unfinished(stack.pool));
    return {
      bench: "rate-limit",
      figures: [
        atMost(`Gemini requests in any 60 s window, GEMINI_RPM=${rpm}`, maxWindow, rpm, "requests", {
          baseline: { name: "unlimited worker, requests/min", value: round(unlimitedPerMinute), unit: "requests" },
        }),
        atMost("429s seen by the simulator", rejected, 0, "responses"),
      ],
      raw: {
        rpm, drafts, workers: WORKERS, concurrencyPerWorker: CONCURRENCY_PER_WORKER, observedMs: Date.now() - observedFrom,
        requestsSeen: seen.length, maxInWindow: maxWindow, rejected, draftsFinished: finished,
        baseline: { drafts: BASELINE_DRAFTS, requests: baselineRequests, requestsPerMinute: round(unlimitedPerMinute) },
      },
    };
  } finally {
    await stack.close();
  }
};

async function queueDrafts(gql: Gql, studentIds: string[]): Promise<void> {
  for (let start = 0; start < studentIds.length; start += 200) {
    const data = await gql(ENQUEUE_BATCH, { studentIds: studentIds.slice(start, start + 200) });
    if (data?.generateIeps?.__typename !== "GenerateIepsSuccess") throw new Error(`generateIeps did not queue: ${JSON.stringify(data)}`);
  }
}

async function unfinished(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from generations where status in ('QUEUED', 'RUNNING')");
  return rows[0]!.n;
}

/** The most timestamps (ms, any order) within any window of `windowMs` starting at one of them. */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    best = Math.max(best, end - start);
  }
  return best;
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
