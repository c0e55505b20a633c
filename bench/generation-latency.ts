/**
 * Measures the numbers issue 3 names, against a real runtime (Postgres, graphile-worker, API over
 * HTTP, the Gemini simulator):
 *   - cancel latency of a RUNNING generation (promise: stopped within 2 s), from the
 *     cancelGeneration response to the worker having let go of the job, over N runs, while its
 *     Gemini stream is open (the simulator holds it open, as a slow draft would);
 *   - time from generateIep (async) returning to the first stored event a subscriber sees;
 *   - NOTIFYs of streamed draft text, for a stream spread over seconds and for one that arrives
 *     at once. Text is coalesced every 50 ms: a burst collapses into one flush, split only into
 *     NOTIFY payloads of at most 1,500 characters (so notifies ≈ draftChars / 1500).
 *
 * Run: npm run bench:generation [-- --runs 10]
 * Uses a throwaway database next to DATABASE_URL's and drops it afterwards.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { signToken } from "../src/auth.ts";
import { withDatabaseName } from "../src/db/pool.ts";
import { insertSchool, insertUser } from "../src/db/schools.ts";
import { prepareDatabase } from "../src/db/setup.ts";
import { env } from "../src/env.ts";
import { EVENTS_CHANNEL } from "../src/events/bus.ts";
import { SIMULATOR_API_KEY } from "../src/gemini/config.ts";
import { startGeminiSimulator } from "../src/gemini/simulator/server.ts";
import { createLogger } from "../src/logger.ts";
import { startRuntime, type Runtime } from "../src/runtime.ts";
import { addEvidence } from "../src/services/evidence.ts";
import { ingestEvidence } from "../src/services/ingestion.ts";
import { createStudent } from "../src/services/students.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
const RUNS = Number(values.runs);
const SECRET = "bench-secret-that-is-long-enough-for-hs256-000000";
const logger = createLogger("error", "stderr");

const settings = env();
const databaseName = `iepgen_bench_${randomBytes(4).toString("hex")}`;
const databaseUrl = withDatabaseName(settings.DATABASE_URL, databaseName);
await prepareDatabase(databaseUrl, logger);
const simulator = await startGeminiSimulator({ latencyMs: 0 });
const runtime = await startRuntime({
  databaseUrl, poolMax: 10, jwtSecret: SECRET, evidenceMaxChars: 200_000, production: false, logger,
  gemini: { apiKey: SIMULATOR_API_KEY, baseUrl: simulator.url, model: "gemini-2.5-flash", embeddingModel: "gemini-embedding-001",
    timeoutMs: 60_000, simulated: true, resilience: { maxRetries: 2 } },
  worker: { concurrency: 2, pollIntervalMs: 1000 },
  api: { host: "127.0.0.1", port: 0 },
});

try {
  const { token, studentId } = await seedStudent(runtime);
  const gql = graphqlClient(`${runtime.server!.url}/graphql`, token);

  simulator.injectFault({ kind: "hang" }, { operation: "stream", times: Number.POSITIVE_INFINITY });
  const cancelMs: number[] = [];
  for (let run = 0; run < RUNS; run++) cancelMs.push(await measureCancel(runtime, gql, studentId));
  simulator.clearFaults();

  simulator.setLatencyMs(3000);
  const spread = await measureStream(runtime, gql, studentId);
  simulator.setLatencyMs(0);
  const burst = await measureStream(runtime, gql, studentId);

  console.log(JSON.stringify({
    benchmark: "generation-latency",
    runs: RUNS,
    cancelRunningMs: summarize(cancelMs),
    cancelPromiseMs: 2000,
    cancelWithinPromise: cancelMs.every((ms) => ms <= 2000),
    firstEventAfterEnqueueMs: spread.firstEventMs,
    deltaCoalescingMs: 50,
    deltaNotifiesSpreadStream: { notifies: spread.deltaCount, perSecond: Number(spread.deltaRate.toFixed(1)), minGapMs: spread.minGapMs },
    deltaNotifiesBurstStream: { notifies: burst.deltaCount, draftChars: burst.draftChars, maxPayloadChars: 1500 },
  }));
} finally {
  await runtime.close();
  await simulator.close();
  const admin = new pg.Client({ connectionString: withDatabaseName(settings.DATABASE_URL, "postgres") });
  await admin.connect();
  await admin.query(`drop database if exists ${databaseName} with (force)`);
  await admin.end();
}

async function seedStudent(rt: Runtime) {
  const school = await insertSchool(rt.pool, "Benchmark school");
  const user = await insertUser(rt.pool, { schoolId: school.id, email: "bench@example.org", name: "Bench", role: "CASE_MANAGER" });
  const viewer = { userId: user.id, schoolId: school.id, role: user.role };
  const student = await createStudent(rt.pool, viewer, { firstName: "Bench", lastName: "Student", dateOfBirth: "2015-02-02", grade: "6" });
  const evidence = await addEvidence(rt.pool, viewer, { studentId: student.id, kind: "PROGRESS_NOTE", title: "Reading",
    body: "Oral reading fluency rose from 18 to 44 words correct per minute. Math problem solving standard score 82." }, { maxChars: 200_000, log: rt.deps.logger });
  await ingestEvidence(rt.deps, evidence.id);
  return { token: await signToken(viewer, SECRET), studentId: student.id };
}

function graphqlClient(url: string, token: string) {
  return async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return ((await response.json()) as { data: any }).data;
  };
}

type Gql = ReturnType<typeof graphqlClient>;

async function enqueue(gql: Gql, studentId: string): Promise<string> {
  const data = await gql(`mutation($s: ID!) { generateIep(input: { studentId: $s }) { ... on GenerateIepSuccess { generation { id } } } }`, { s: studentId });
  return data.generateIep.generation.id;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Enqueues, waits until drafting (the Gemini stream is open), cancels, times until the job is released. */
async function measureCancel(rt: Runtime, gql: Gql, studentId: string): Promise<number> {
  const id = await enqueue(gql, studentId);
  await waitUntil(async () => (await rt.pool.query("select stage from generations where id = $1", [id])).rows[0]?.stage === "drafting");
  const jobId = (await rt.pool.query("select id from graphile_worker.jobs where key = $1", [`generate_iep:${id}`])).rows[0]?.id;
  const started = performance.now();
  await gql(`mutation($id: ID!) { cancelGeneration(id: $id) { __typename } }`, { id });
  await waitUntil(async () => (await rt.pool.query("select count(*)::int as n from graphile_worker.jobs where id = $1", [jobId])).rows[0].n === 0);
  return performance.now() - started;
}

/** One full generation with a LISTEN client counting NOTIFYs by kind. */
async function measureStream(rt: Runtime, gql: Gql, studentId: string) {
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  await listener.query(`listen ${EVENTS_CHANNEL}`);
  const deltas: number[] = [];
  let draftChars = 0;
  let firstEventAt = 0;
  let generationId = "";
  listener.on("notification", (message) => {
    const event = JSON.parse(message.payload ?? "{}");
    if (event.generationId !== generationId) return;
    if (event.type === "generation.delta") {
      deltas.push(performance.now());
      draftChars += event.text.length;
    }
    if (event.type === "generation.event" && firstEventAt === 0) firstEventAt = performance.now();
  });
  const enqueuedAt = performance.now();
  generationId = await enqueue(gql, studentId);
  const returnedAt = performance.now();
  await waitUntil(async () => (await rt.pool.query("select status from generations where id = $1", [generationId])).rows[0]?.status === "SUCCEEDED", 60_000);
  await listener.end();
  const spanSeconds = deltas.length > 1 ? (deltas.at(-1)! - deltas[0]!) / 1000 : 1;
  const gaps = deltas.slice(1).map((at, i) => at - deltas[i]!);
  return {
    firstEventMs: Math.round((firstEventAt || returnedAt) - enqueuedAt),
    deltaCount: deltas.length,
    draftChars,
    deltaRate: deltas.length / Math.max(spanSeconds, 0.05),
    minGapMs: gaps.length > 0 ? Math.round(Math.min(...gaps)) : null,
  };
}

function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { p50: at(0.5), p95: at(0.95), max: Math.round(sorted.at(-1)!), min: Math.round(sorted[0]!) };
}
