/**
 * Relay: a text chunk leaving the Gemini simulator → the subscriber receiving it as a `textDelta`
 * over graphql-ws, with the worker and the API in separate child processes. Chunk times are taken
 * by a recording proxy between the worker and the simulator (bench/lib/proxy.ts). The simulator's
 * latency spaces a stream's chunks 80 ms apart, longer than the worker's 50 ms coalescing interval
 * (src/services/generation/deltas.ts), so each chunk is one delta: overhead = delivery − 50 ms.
 * Text is flushed sooner when the stream ends or a stored event is written: a stream's last chunk,
 * and a delta arriving within 50 ms, count their whole delivery time as overhead.
 * Baseline: raw NOTIFY → LISTEN → a bare ws socket. Target: overhead p50 ≤ 5 ms.
 */
import { notifyListenWsRelay } from "./lib/baselines.ts";
import { collectEvents, enqueue, graphqlClient, seedStudents, wsClient } from "./lib/graphql.ts";
import { startRecordingProxy, type ProxiedRequest, type RecordingProxy } from "./lib/proxy.ts";
import { atMost, summarize, type Bench } from "./lib/report.ts";
import { createBenchStack } from "./lib/stack.ts";

const COALESCING_MS = 50;
/** The simulator pauses latency/6 between a stream's 6 chunks: 80 ms apart. */
const SIMULATOR_LATENCY_MS = 480;

export const run: Bench = async ({ quick }) => {
  const runs = quick ? 3 : 12;
  let proxy: RecordingProxy | undefined;
  const stack = await createBenchStack({ geminiUrl: async (url) => (proxy = await startRecordingProxy(url)).url });
  try {
    const tenant = await stack.tenant();
    const [api] = await Promise.all([stack.startApi(), stack.startWorker({ WORKER_CONCURRENCY: "4" })]);
    const [studentId] = await seedStudents(stack.pool, tenant, 1, { ingested: true });
    const baseline = await notifyListenWsRelay(stack.databaseUrl, quick ? 50 : 200);
    stack.simulator.setLatencyMs(SIMULATOR_LATENCY_MS);
    const gql = graphqlClient(api.graphqlUrl, tenant.token);
    const client = wsClient(api.wsUrl, tenant.token);
    const overheads: number[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const startedAt = performance.now();
        const events = await collectEvents(client, await enqueue(gql, studentId!));
        const streams = proxy!.requests.filter((request) => request.path.includes("streamGenerateContent") && (request.chunks[0] ?? 0) >= startedAt);
        overheads.push(...deltaOverheads(events.filter((event) => event.textDelta !== null).map((event) => event.at), streams));
      }
    } finally {
      await client.dispose();
    }
    const overhead = summarize(overheads);
    return {
      bench: "relay",
      figures: [
        atMost("text chunk → subscriber, overhead beyond coalescing, p50", overhead.p50, 5, "ms", { baseline: { name: "NOTIFY→LISTEN→ws p50", value: baseline.p50, unit: "ms" } }),
        { name: "text chunk → subscriber, overhead p99", value: overhead.p99, unit: "ms", baseline: { name: "NOTIFY→LISTEN→ws p99", value: baseline.p99, unit: "ms" }, target: "informational", pass: null },
      ],
      raw: { runs, coalescingMs: COALESCING_MS, simulatorLatencyMs: SIMULATOR_LATENCY_MS, deltas: overheads.length, overheadMs: overhead, rawRelayMs: baseline },
    };
  } finally {
    await stack.close();
    await proxy?.close();
  }
};

/** Each delta's delay after the latest chunk before it, less the coalescing interval when it waited for it. */
function deltaOverheads(deltaTimes: number[], streams: ProxiedRequest[]): number[] {
  const chunks = streams.flatMap((stream) => stream.chunks.map((at, index) => ({ at, last: index === stream.chunks.length - 1 })));
  return deltaTimes.flatMap((at) => {
    const chunk = chunks.filter((c) => c.at <= at).at(-1);
    if (!chunk) return [];
    const delivery = at - chunk.at;
    return [chunk.last || delivery < COALESCING_MS ? delivery : delivery - COALESCING_MS];
  });
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
