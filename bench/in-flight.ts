/**
 * In flight: ONE worker process at WORKER_CONCURRENCY=200 while every Gemini call takes 2 s (the
 * simulator's latency; a stream also waits latency ÷ chunks between its chunks). Drafts completed
 * per second over three full waves (600 drafts queued at once: first start to last finish, ramp and
 * tail included) against the ideal, concurrency ÷ the summed simulated latency of one draft, and against raw
 * graphile-worker running a task that only sleeps that long, at the same concurrency with a pool of
 * the same size, in the same run. Reports the worker's RSS and how often its pools made a
 * statement wait for a connection.
 *
 * Run: node bench/in-flight.ts [--quick] [--pool 20]
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { atLeast, ratioAtLeast, round, type Bench } from "./lib/report.ts";
import { createScratch, draftTimes, enqueueDrafts, generationCounts, rawWorkerJobs, seedStudents, startWorkerChild, waitUntil, type Scratch, type WorkerChild } from "./lib/drafts.ts";

/** Chunks per simulated stream (src/gemini/simulator/server.ts STREAM_CHUNK_COUNT): chunks after the first wait latency ÷ 6 each. */
const STREAM_CHUNKS = 6;
/**
 * Connections per pool: statements are short (the 2 s waits hold none), so 20 connections serve 200
 * runs; /metrics' waiting count shows whether statements queued for one (raw.maxWaiting).
 */
const DEFAULT_POOL = 20;

export const run: Bench = async ({ quick }) => {
  const { values } = parseArgs({ options: { pool: { type: "string" } }, strict: false });
  const poolMax = Number(values.pool ?? DEFAULT_POOL);
  const settings = quick ? { concurrency: 50, drafts: 100, latencyMs: 500 } : { concurrency: 200, drafts: 600, latencyMs: 2000 };
  const scratch = await createScratch(0);
  try {
    const worker = await startWorkerChild(scratch, { concurrency: settings.concurrency, poolMax });
    let measured: Awaited<ReturnType<typeof measureDrafts>>;
    try {
      measured = await measureDrafts(scratch, worker, settings, quick ? 25 : 100);
    } finally {
      await worker.stop();
    }
    const idealPerSecond = settings.concurrency / (measured.summedLatencyMs / 1000);
    const raw = await rawWorkerJobs(scratch.url, {
      jobs: settings.drafts, concurrency: settings.concurrency, poolMax, task: () => sleep(measured.summedLatencyMs),
    });
    const baselinePerSecond = rate(raw.starts, raw.finishes);
    return {
      bench: "in-flight",
      figures: [
        ratioAtLeast(`drafts/s, concurrency ${settings.concurrency}, ${settings.latencyMs} ms per Gemini call`, measured.perSecond, "drafts/s",
          { name: `ideal: ${settings.concurrency} ÷ ${round(measured.summedLatencyMs / 1000)} s simulated latency per draft`, value: idealPerSecond }, 0.9),
        atLeast("share of the raw sleeping task's rate", measured.perSecond / baselinePerSecond, 0.9, "×", {
          baseline: { name: `raw graphile-worker task sleeping ${round(measured.summedLatencyMs / 1000)} s, concurrency ${settings.concurrency}`, value: round(baselinePerSecond), unit: "jobs/s" },
          pass: null,
        }),
        { name: "worker RSS, peak", value: round(measured.peakRssMb), unit: "MB", target: "reported", pass: null },
      ],
      raw: { ...settings, poolMax, ...measured, idealPerSecond: round(idealPerSecond), baselinePerSecond: round(baselinePerSecond),
        baselineShareOfIdeal: round(baselinePerSecond / idealPerSecond) },
    };
  } finally {
    await scratch.drop();
  }
};

async function measureDrafts(scratch: Scratch, worker: WorkerChild, settings: { drafts: number; latencyMs: number }, students: number) {
  const seeded = await seedStudents(scratch, students);
  const requestsBefore = countRequests(scratch);
  scratch.simulator.setLatencyMs(settings.latencyMs);
  let peakRssMb = worker.rssMb();
  let maxWaiting = 0;
  await enqueueDrafts(scratch, seeded, settings.drafts);
  await waitUntil(async () => {
    peakRssMb = Math.max(peakRssMb, worker.rssMb());
    maxWaiting = Math.max(maxWaiting, await poolsWaiting(worker));
    await sleep(200);
    return (await generationCounts(scratch.pool)).done === settings.drafts;
  }, 240_000, "every draft finished");
  const requests = countRequests(scratch);
  const perDraft = {
    embed: (requests.embed - requestsBefore.embed) / settings.drafts,
    stream: (requests.stream - requestsBefore.stream) / settings.drafts,
  };
  const summedLatencyMs = settings.latencyMs * (perDraft.embed + perDraft.stream * (1 + (STREAM_CHUNKS - 1) / STREAM_CHUNKS));
  const counts = await generationCounts(scratch.pool);
  const times = await draftTimes(scratch.pool);
  return {
    succeeded: counts.succeeded, failed: counts.failed, geminiCallsPerDraft: perDraft, summedLatencyMs: round(summedLatencyMs),
    perSecond: rate(times.starts, times.finishes), peakRssMb: round(peakRssMb), endRssMb: round(worker.rssMb()), maxWaiting,
  };
}

/** Completions per second from the first start to the last finish. */
function rate(starts: number[], finishes: number[]): number {
  return finishes.length / ((Math.max(...finishes) - Math.min(...starts)) / 1000);
}

function countRequests(scratch: Scratch): { embed: number; stream: number } {
  const requests = scratch.simulator.requests;
  return { embed: requests.filter((r) => r.operation === "embed").length, stream: requests.filter((r) => r.operation === "stream").length };
}

async function poolsWaiting(worker: WorkerChild): Promise<number> {
  const text = await (await fetch(worker.metricsUrl)).text();
  let waiting = 0;
  for (const match of text.matchAll(/^iepgen_db_pool_connections\{pool="[^"]+",state="waiting"\} (\S+)$/gm)) waiting += Number(match[1]);
  return waiting;
}

if (import.meta.main) console.log(JSON.stringify(await run({ quick: process.argv.includes("--quick") }), null, 2));
