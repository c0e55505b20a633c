/**
 * Latency: from sending `generateIep(async: true)` over HTTP to the first `generationEvents` event
 * on a graphql-ws subscription opened (afterSeq 0: stored events replayed, then live) as soon as the
 * mutation returns the id, and to the first RUNNING event. API and worker are separate child
 * processes; the simulator answers at 0 ms. One generation at a time, each run to its end.
 * Baselines in the same run: raw NOTIFY → LISTEN, and add_job → no-op task start (graphile-worker,
 * same pollInterval as iepgen's worker: new jobs wake it through LISTEN, not polling).
 * Targets: first event p50 ≤ 10 ms, p99 ≤ 25 ms; RUNNING p50 ≤ 25 ms.
 */
import { addJobToTaskStart, notifyListen } from "./lib/baselines.ts";
import { collectEvents, enqueue, graphqlClient, seedStudents, wsClient, type Gql } from "./lib/graphql.ts";
import { atMost, summarize, type Bench } from "./lib/report.ts";
import { createBenchStack } from "./lib/stack.ts";
import type { Client } from "graphql-ws";

/** iepgen's worker (src/worker.ts) polls every 1,000 ms by default; LISTEN wakes it for new jobs. */
const WORKER_POLL_INTERVAL_MS = 1000;

export const run: Bench = async ({ quick }) => {
  const runs = quick ? 20 : 100;
  const stack = await createBenchStack();
  try {
    const tenant = await stack.tenant();
    const [api] = await Promise.all([stack.startApi(), stack.startWorker({ WORKER_CONCURRENCY: "4" })]);
    const [studentId] = await seedStudents(stack.pool, tenant, 1, { ingested: true });
    const notify = await notifyListen(stack.databaseUrl, runs * 2);
    const taskStart = await addJobToTaskStart(stack.databaseUrl, runs, WORKER_POLL_INTERVAL_MS);
    const gql = graphqlClient(api.graphqlUrl, tenant.token);
    const client = wsClient(api.wsUrl, tenant.token);
    try {
      for (let i = 0; i < 3; i++) await measureOne(gql, client, studentId!);
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await measureOne(gql, client, studentId!));
      const firstEvent = summarize(samples.map((s) => s.firstEventMs));
      const running = summarize(samples.map((s) => s.runningMs));
      const mutation = summarize(samples.map((s) => s.mutationMs));
      const notifyBaseline = { name: "NOTIFY→LISTEN p50", value: notify.p50, unit: "ms" };
      return {
        bench: "latency",
        figures: [
          atMost("mutation → first event p50 (graphql-ws)", firstEvent.p50, 10, "ms", { baseline: notifyBaseline }),
          atMost("mutation → first event p99 (graphql-ws)", firstEvent.p99, 25, "ms", { baseline: { name: "NOTIFY→LISTEN p99", value: notify.p99, unit: "ms" } }),
          atMost("mutation → RUNNING event p50", running.p50, 25, "ms", { baseline: { name: "add_job→task start p50", value: taskStart.p50, unit: "ms" } }),
        ],
        raw: { runs, workerPollIntervalMs: WORKER_POLL_INTERVAL_MS, mutationResponseMs: mutation, firstEventMs: firstEvent, runningMs: running, notifyListenMs: notify, addJobToTaskStartMs: taskStart },
      };
    } finally {
      await client.dispose();
    }
  } finally {
    await stack.close();
  }
};

/** One generation: times from sending the mutation to its response, the first event and RUNNING; waits for its end. */
async function measureOne(gql: Gql, client: Client, studentId: string) {
  const sent = performance.now();
  const id = await enqueue(gql, studentId);
  const mutationMs = performance.now() - sent;
  const events = await collectEvents(client, id);
  const runningAt = events.find((event) => event.status === "RUNNING")?.at;
  if (events.length === 0 || runningAt === undefined) throw new Error(`generation ${id} streamed no RUNNING event (${events.map((e) => e.status).join(", ")})`);
  return { mutationMs, firstEventMs: events[0]!.at - sent, runningMs: runningAt - sent };
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
