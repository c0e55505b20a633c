/**
 * Crash recovery end to end: worker processes SIGKILLed mid-draft (once, and every time), a job run
 * twice, concurrent drafts for one student, the reconciler, and a worker-only process's /healthz.
 * Every wait is on a condition (a row, a job, an event), never on a fixed sleep.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Client as WsClient } from "graphql-ws";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { defaultGeneratedText } from "../src/gemini/simulator/generation.ts";
import type { GeminiSimulator } from "../src/gemini/simulator/server.ts";
import type { Runtime } from "../src/runtime.ts";
import { requestIepGeneration } from "../src/services/generation/request.ts";
import { runGeneration } from "../src/services/generation/run.ts";
import {
  GENERATION,
  GENERATION_EVENTS,
  generate,
  studentWithEvidence,
  waitForStatus,
  wsClient,
  type StreamedEvent,
} from "./helpers/generation.ts";
import { jobById, jobByKey } from "./helpers/jobs.ts";
import { startSecondApi, startTestStack, TEST_RECOVERY_TIMINGS, testLogger, waitFor, type TestStack } from "./helpers/stack.ts";
import { startWorkerProcess, type WorkerProcess } from "./helpers/worker-process.ts";
import { freePort } from "./helpers/process.ts";

const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"];
const jobKey = (generationId: string) => `generate_iep:${generationId}`;

interface EventView {
  seq: number;
  status: string;
  stage: string;
  message: string | null;
}

/** The stages of stored events with consecutive repeats (drafting progress checkpoints) collapsed. */
function stageRuns(events: { stage: string | null }[]): (string | null)[] {
  return events.map((e) => e.stage).filter((stage, i, all) => i === 0 || stage !== all[i - 1]);
}

/** Stored events are numbered 1..n with no gap and no repeat. */
function expectConsecutiveSeqs(events: { seq: number }[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
}

async function iepCount(pool: pg.Pool, generationId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from ieps where generation_id = $1", [generationId]);
  return rows[0]!.n;
}

async function generationRow(pool: pg.Pool, id: string) {
  const { rows } = await pool.query<{ status: string; stage: string; attempts: number; runner_id: string | null; last_seq: number }>(
    "select status, stage, attempts, runner_id, last_seq from generations where id = $1", [id]);
  return rows[0]!;
}

async function view(stack: TestStack, id: string) {
  return (await stack.gql(GENERATION, { id })).data!.generation as { status: string; attempts: number; lastSeq: number; error: string | null;
    events: EventView[]; iep: { id: string; version: number } | null };
}

function streamRequests(simulator: GeminiSimulator): number {
  return simulator.requests.filter((r) => r.operation === "stream").length;
}

/**
 * Holds every draft stream for `ms` before its first byte. The latency is raised when the stream
 * request arrives (so the embeddings of retrieval before it stay fast); `fast()` lowers it again
 * (until the next stream request) and `restore()` removes the handler.
 */
function holdStreams(simulator: GeminiSimulator, ms: number | ((nth: number) => number)) {
  let nth = 0;
  simulator.setGenerateHandler((request) => {
    nth += 1;
    simulator.setLatencyMs(typeof ms === "number" ? ms : ms(nth));
    return defaultGeneratedText(request.body);
  });
  return {
    fast: () => simulator.setLatencyMs(0),
    restore: () => {
      simulator.setGenerateHandler(undefined);
      simulator.setLatencyMs(0);
    },
  };
}

/** A graphql-ws subscriber of `generationEvents` whose events can be read while it runs. */
function watchGenerationEvents(client: WsClient, id: string) {
  const events: StreamedEvent[] = [];
  let unsubscribe = () => {};
  const done = new Promise<StreamedEvent[]>((resolve, reject) => {
    unsubscribe = client.subscribe<{ generationEvents: StreamedEvent }>({ query: GENERATION_EVENTS, variables: { id } }, {
      next: (result) => (result.errors ? reject(new Error(JSON.stringify(result.errors))) : events.push(result.data!.generationEvents)),
      error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
      complete: () => resolve(events),
    });
  });
  return { events, done, unsubscribe: () => unsubscribe() };
}

/**
 * Polls graphile-worker's public jobs view until stopped: the most jobs seen at once holding the
 * generation's key, the most `generate_iep` jobs seen at once (nothing else is queued meanwhile, so
 * 2 means a duplicate, keyed or not), and every job id that held the key.
 */
function watchJobs(pool: pg.Pool, generationId: string) {
  const seen = { mostKeyed: 0, mostAll: 0, keyedIds: new Set<string>() };
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      const { rows } = await pool.query<{ id: string; key: string | null }>(
        "select id::text as id, key from graphile_worker.jobs where task_identifier = 'generate_iep'");
      const keyed = rows.filter((r) => r.key === jobKey(generationId));
      for (const r of keyed) seen.keyedIds.add(r.id);
      seen.mostKeyed = Math.max(seen.mostKeyed, keyed.length);
      seen.mostAll = Math.max(seen.mostAll, rows.length);
      await sleep(20); // sampling rate only: nothing waits on this
    }
  })();
  return {
    async stop() {
      stopped = true;
      await polling;
      return seen;
    },
  };
}

/** What the crash tests saw of a killed process's graphile-worker job (checked by the test after them). */
interface CrashedJobObservation {
  test: string;
  /** The most generate_iep jobs that existed at once. */
  mostJobs: number;
  /** Jobs the killed processes had locked that still exist once the generation is finished. */
  leftovers: { id: string; key: string | null; attempts: number; max_attempts: number; locked_by: string | null }[];
}

async function jobsStillThere(pool: pg.Pool, ids: readonly string[]): Promise<CrashedJobObservation["leftovers"]> {
  const { rows } = await pool.query<CrashedJobObservation["leftovers"][number]>(
    "select id::text as id, key, attempts, max_attempts, locked_by from graphile_worker.jobs where id = any($1::bigint[])", [[...ids]]);
  return rows;
}

async function addJobAgain(pool: pg.Pool, generationId: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `select (graphile_worker.add_job('generate_iep', json_build_object('generationId', $1::text), max_attempts => 3, job_key => $2)).id::text as id`,
    [generationId, jobKey(generationId)]);
  return rows[0]!.id;
}

describe("worker processes killed mid-draft", () => {
  let stack: TestStack;
  let studentId: string;
  const workers: WorkerProcess[] = [];
  const live = () => workers.filter((w) => !w.hasExited());
  const crashedJobs: CrashedJobObservation[] = [];

  async function startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = await startWorkerProcess(stack.db.url, stack.simulator.url, env);
    workers.push(worker);
    return worker;
  }
  /** Tops the live worker processes up to `count`. */
  async function keepWorkers(count: number): Promise<void> {
    await Promise.all(Array.from({ length: Math.max(0, count - live().length) }, () => startWorker()));
  }
  function printWorkerOutputOnFailure(): void {
    onTestFailed(() => {
      for (const w of workers) console.error(`--- worker ${w.runnerId} (pid ${w.child.pid}) ---\n${w.output()}`);
    });
  }

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    await keepWorkers(2); // the evidence below is ingested by them
    studentId = await studentWithEvidence(stack);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await stack?.close();
  });

  it("SIGKILL of the worker drafting: another worker process finishes it, one IEP, the crashed attempt counts", async () => {
    printWorkerOutputOnFailure();
    await keepWorkers(2);
    const pool = stack.runtime.pool;
    const streams = holdStreams(stack.simulator, 30_000);
    const client = wsClient(stack);
    try {
      const streamsBefore = streamRequests(stack.simulator);
      const generation = await generate(stack, { studentId });
      const jobs = watchJobs(pool, generation.id);
      const subscriber = watchGenerationEvents(client, generation.id);
      // The subscriber is live (it has seen DRAFTING) and the draft request is held by the simulator.
      await waitFor(async () => subscriber.events.some((e) => e.stage === "DRAFTING") && streamRequests(stack.simulator) > streamsBefore,
        30_000, "the subscriber to see DRAFTING and the draft request to reach Gemini");
      const running = await generationRow(pool, generation.id);
      expect(running).toMatchObject({ status: "RUNNING", stage: "drafting", attempts: 1 });
      const victim = live().find((w) => w.runnerId === running.runner_id);
      expect(victim, `runner ${running.runner_id} is one of this test's worker processes`).toBeDefined();
      const crashedJob = await jobByKey(pool, jobKey(generation.id));
      expect(crashedJob?.locked_at).not.toBeNull();

      const killedAt = Date.now();
      await victim!.kill();
      streams.restore(); // the draft of the next attempt is answered at once
      expect(await victim!.exited).toMatchObject({ signal: "SIGKILL" });
      const events = await subscriber.done;
      const recoveryMs = Date.now() - killedAt;
      console.info(`crash recovery: SIGKILL of the drafting worker → SUCCEEDED in ${recoveryMs} ms`);
      expect(recoveryMs).toBeLessThan(60_000);

      // The subscriber, opened before the kill, saw every stored event in order, RECOVERED then SUCCEEDED.
      const stored = events.filter((e) => e.textDelta === null);
      expectConsecutiveSeqs(stored);
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      const recovered = stored.findIndex((e) => e.stage === "RECOVERED");
      expect(recovered).toBeGreaterThan(0);
      expect(stored[recovered]).toMatchObject({ status: "QUEUED" });
      expect(stored[recovered]!.message).toMatch(/worker running it stopped/);
      expect(stored.at(-1)).toMatchObject({ status: "SUCCEEDED", stage: "DONE" });
      expect(stored.filter((e) => TERMINAL.includes(e.status))).toHaveLength(1);
      expect(stageRuns(stored)).toEqual(["QUEUED", "STARTING", "RETRIEVING", "DRAFTING", "RECOVERED",
        "STARTING", "RETRIEVING", "DRAFTING", "VALIDATING", "SAVING", "DONE"]);

      const done = await view(stack, generation.id);
      expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 2, error: null, lastSeq: stored.at(-1)!.seq });
      expect(done.events.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
      expect(done.iep).not.toBeNull();
      expect(await iepCount(pool, generation.id)).toBe(1);

      // The dead process was swept; the generation's job was handed over (never two holding its key)
      // and is done now. That the dead process's own job row was released is checked below.
      const { rows: heartbeats } = await pool.query("select id from worker_heartbeats where id = $1", [victim!.runnerId]);
      expect(heartbeats).toEqual([]);
      const finished = await generationRow(pool, generation.id);
      expect(finished.runner_id).toBeNull();
      await waitFor(async () => !(await jobByKey(pool, jobKey(generation.id))), 10_000, "the generation's job to complete");
      const seen = await jobs.stop();
      expect(seen.mostKeyed).toBe(1);
      crashedJobs.push({ test: "SIGKILL mid-draft", mostJobs: seen.mostAll, leftovers: await jobsStillThere(pool, [crashedJob!.id]) });
    } finally {
      streams.restore();
      await client.dispose();
    }
  }, 90_000);

  it("a poison draft that kills its worker every time ends FAILED after three attempts, with no job left", async () => {
    printWorkerOutputOnFailure();
    await keepWorkers(2);
    const pool = stack.runtime.pool;
    const streams = holdStreams(stack.simulator, 60_000);
    try {
      const earlierJobs = (await pool.query<{ id: string }>("select id::text as id from graphile_worker.jobs")).rows.map((r) => r.id);
      const generation = await generate(stack, { studentId });
      const streamsBefore = streamRequests(stack.simulator);
      const jobs = watchJobs(pool, generation.id);
      const killedJobIds: string[] = [];
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        // Whoever runs it now is drafting, and its draft request is held by the simulator: kill it.
        const runnerId = await waitFor(async () => {
          const row = await generationRow(pool, generation.id);
          const drafting = row.status === "RUNNING" && row.stage === "drafting" && row.attempts === attempt;
          return drafting && streamRequests(stack.simulator) >= streamsBefore + attempt ? row.runner_id : undefined;
        }, 30_000, `attempt ${attempt} to be drafting`);
        const victim = live().find((w) => w.runnerId === runnerId);
        expect(victim, `runner ${runnerId} is one of this test's worker processes`).toBeDefined();
        const job = await jobByKey(pool, jobKey(generation.id));
        expect(job?.locked_at).not.toBeNull();
        killedJobIds.push(job!.id);
        await victim!.kill();
        streams.fast(); // the next attempt's retrieval is not held; its draft will be
        await keepWorkers(2); // a fresh process replaces the dead one; the other one sweeps
      }

      const failed = await waitForStatus(stack, generation.id, TERMINAL, 30_000);
      expect(failed).toMatchObject({ status: "FAILED", stage: "FAILED", attempts: 3, iep: null });
      expect(failed.error).toMatch(/worker running it stopped during each of its 3 attempts/);
      expect(failed.message).toMatch(/stopped during every attempt/);
      const events = failed.events as EventView[];
      expectConsecutiveSeqs(events);
      expect(stageRuns(events)).toEqual(["QUEUED",
        "STARTING", "RETRIEVING", "DRAFTING", "RECOVERED",
        "STARTING", "RETRIEVING", "DRAFTING", "RECOVERED",
        "STARTING", "RETRIEVING", "DRAFTING", "FAILED"]);
      expect(events.at(-1)).toMatchObject({ status: "FAILED", seq: failed.lastSeq });
      expect(await iepCount(pool, generation.id)).toBe(0);
      // Its job was removed with the FAILED transition (same transaction), and nothing runnable is
      // left for it: every generate_iep job still in the view is one the killed processes had locked
      // and can never run again (attempts used up). That there are none is checked below.
      expect(await jobByKey(pool, jobKey(generation.id))).toBeUndefined();
      const seen = await jobs.stop();
      expect(seen.mostKeyed).toBe(1);
      const { rows } = await pool.query<{ id: string; attempts: number; max_attempts: number }>(
        "select id::text as id, attempts, max_attempts from graphile_worker.jobs where task_identifier = 'generate_iep' and not (id = any($1::bigint[]))",
        [earlierJobs]);
      for (const job of rows) {
        expect(killedJobIds).toContain(job.id);
        expect(job.attempts).toBe(job.max_attempts);
      }
      crashedJobs.push({ test: "poison draft", mostJobs: seen.mostAll, leftovers: await jobsStillThere(pool, killedJobIds) });
      // Three processes died; each one's heartbeat row was swept.
      const dead = workers.filter((w) => w.hasExited()).map((w) => w.runnerId);
      const { rows: leftovers } = await pool.query("select id from worker_heartbeats where id = any($1::uuid[])", [dead]);
      expect(leftovers).toEqual([]);
      expect((await view(stack, generation.id)).lastSeq).toBe(failed.lastSeq);
    } finally {
      streams.restore();
    }
  }, 120_000);

  // graphile-worker 0.18 locks jobs with its worker POOL's id, so the heartbeat reports the pool id
  // too: the sweep's force_unlock_workers then releases the dead process's job, and add_jobs replaces
  // it in place instead of leaving a locked row behind and adding a second job.
  it("a killed process's job is released and replaced in place: never two jobs, none left behind", () => {
    expect(crashedJobs.length).toBeGreaterThan(0);
    for (const observed of crashedJobs) {
      expect(observed.leftovers, observed.test).toEqual([]);
      expect(observed.mostJobs, observed.test).toBe(1);
    }
  });

  it("a worker-only process serves /healthz on WORKER_HEALTH_PORT (200 JSON) and 404 elsewhere", async () => {
    printWorkerOutputOnFailure();
    const port = await freePort();
    const worker = await startWorker({ WORKER_HEALTH_PORT: String(port), HOST: "127.0.0.1" });
    const base = `http://127.0.0.1:${port}`;
    // The probe listens right after the process starts beating.
    const response = await waitFor(() => fetch(`${base}/healthz`).catch(() => undefined), 15_000, "the worker's health probe to listen");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toMatchObject({
      ok: true,
      worker: "running",
      database: "up",
      eventLoop: { p50Ms: expect.any(Number), p99Ms: expect.any(Number), maxMs: expect.any(Number) },
    });
    for (const path of ["/", "/graphql", "/healthz/extra"]) {
      const other = await fetch(`${base}${path}`);
      expect(other.status, path).toBe(404);
      await other.body?.cancel();
    }
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(404);
    // A graceful stop leaves nothing to recover: its heartbeat row is removed.
    expect(await worker.stop()).toMatchObject({ code: 0 });
    const { rows } = await stack.runtime.pool.query("select id from worker_heartbeats where id = $1", [worker.runnerId]);
    expect(rows).toEqual([]);
  }, 60_000);
});

describe("in-process workers (concurrency 4 over two processes)", () => {
  let stack: TestStack;
  let second: Runtime;
  let studentId: string;

  beforeAll(async () => {
    stack = await startTestStack(); // worker, concurrency 2
    second = await startSecondApi(stack, { worker: true }); // another 2
    studentId = await studentWithEvidence(stack);
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
  });

  const viewer = () => ({ userId: stack.tenant.userId, schoolId: stack.tenant.schoolId, role: "CASE_MANAGER" as const });

  it("a job added again while it runs: the newer run takes over, the superseded one writes nothing; one IEP", async () => {
    const pool = stack.runtime.pool;
    // The first draft is held 5 s before its first byte; the second run's draft is answered at once.
    const streams = holdStreams(stack.simulator, (nth) => (nth === 1 ? 5000 : 0));
    try {
      const streamsBefore = streamRequests(stack.simulator);
      const generation = await generate(stack, { studentId });
      await waitFor(async () => (await generationRow(pool, generation.id)).stage === "drafting" && streamRequests(stack.simulator) > streamsBefore,
        15_000, "the first run to be drafting");
      const first = await jobByKey(pool, jobKey(generation.id));
      expect(first?.locked_at).not.toBeNull();

      const secondJobId = await addJobAgain(pool, generation.id);
      expect(secondJobId).not.toBe(first!.id);
      const done = await waitForStatus(stack, generation.id, TERMINAL, 20_000);
      // Both jobs finish: the superseded run only once its held draft arrives and its next step is refused.
      await waitFor(async () => !(await jobById(pool, first!.id)) && !(await jobById(pool, secondJobId)), 20_000, "both jobs to finish");

      expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 2, error: null });
      const events = done.events as EventView[];
      expectConsecutiveSeqs(events);
      expect(stageRuns(events)).toEqual(["QUEUED", "STARTING", "RETRIEVING", "DRAFTING",
        "STARTING", "RETRIEVING", "DRAFTING", "VALIDATING", "SAVING", "DONE"]);
      expect(events.filter((e) => TERMINAL.includes(e.status))).toEqual([events.at(-1)]);
      expect(await iepCount(pool, generation.id)).toBe(1);
      // Nothing was written after the terminal event, by either run.
      const after = await view(stack, generation.id);
      expect(after).toMatchObject({ status: "SUCCEEDED", lastSeq: done.lastSeq, attempts: 2 });
      expect(after.events).toEqual(events);
    } finally {
      streams.restore();
    }
  }, 60_000);

  it("runGeneration twice at once: exactly one IEP and one SUCCEEDED; a job re-added afterwards changes nothing", async () => {
    const pool = stack.runtime.pool;
    const { generation } = await requestIepGeneration(pool, viewer(), { studentId }, { enqueue: false, log: testLogger() });
    const runs = await Promise.all([runGeneration(stack.runtime.deps, generation.id), runGeneration(second.deps, generation.id)]);
    expect(runs.some((g) => g?.status === "SUCCEEDED")).toBe(true);

    const done = await view(stack, generation.id);
    expect(done).toMatchObject({ status: "SUCCEEDED", error: null });
    const events = done.events;
    expectConsecutiveSeqs(events);
    // Each run that started counted an attempt; only one of them finished, and it finished last.
    expect(events.filter((e) => e.stage === "STARTING")).toHaveLength(done.attempts);
    expect(done.attempts).toBeGreaterThanOrEqual(1);
    expect(done.attempts).toBeLessThanOrEqual(2);
    expect(events.filter((e) => TERMINAL.includes(e.status))).toEqual([events.at(-1)]);
    expect(events.at(-1)).toMatchObject({ status: "SUCCEEDED", stage: "DONE", seq: done.lastSeq });
    expect(await iepCount(pool, generation.id)).toBe(1);

    // The same job added again after SUCCEEDED runs (and completes) without changing anything.
    const jobId = await addJobAgain(pool, generation.id);
    await waitFor(async () => !(await jobById(pool, jobId)), 15_000, "the re-added job to run and complete");
    const after = await view(stack, generation.id);
    expect(after).toMatchObject({ status: "SUCCEEDED", lastSeq: done.lastSeq, attempts: done.attempts, iep: { id: done.iep!.id } });
    expect(after.events).toEqual(events);
    expect(await iepCount(pool, generation.id)).toBe(1);
  }, 60_000);

  it("12 concurrent drafts for one student and year all succeed first time, versions exactly 1..12", async () => {
    const pool = stack.runtime.pool;
    const student = await studentWithEvidence(stack);
    const generations = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      generate(stack, { studentId: student, idempotencyKey: `concurrent-${i}` })));
    expect(new Set(generations.map((g) => g.id)).size).toBe(12);
    const done = await Promise.all(generations.map((g) => waitForStatus(stack, g.id, TERMINAL, 60_000)));
    for (const g of done) {
      expect(g).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null });
      expect(g.events.map((e: EventView) => e.stage)).not.toContain("WAITING_TO_RETRY");
      expect(g.events.filter((e: EventView) => e.stage === "STARTING")).toHaveLength(1);
      expectConsecutiveSeqs(g.events);
    }
    const { rows } = await pool.query<{ academic_year: string; version: number; generation_id: string }>(
      "select academic_year, version, generation_id from ieps where student_id = $1 order by version", [student]);
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.academic_year)).size).toBe(1);
    expect(rows.map((r) => r.generation_id).sort()).toEqual(generations.map((g) => g.id).sort());
  }, 90_000);

  it("the reconciler gives a QUEUED generation without a job its job back within seconds; it runs once and succeeds", async () => {
    const pool = stack.runtime.pool;
    const streamsBefore = streamRequests(stack.simulator);
    const { generation } = await requestIepGeneration(pool, viewer(), { studentId }, { enqueue: false, log: testLogger() });
    const jobs = watchJobs(pool, generation.id);
    expect(await jobByKey(pool, jobKey(generation.id))).toBeUndefined();

    const done = await waitForStatus(stack, generation.id, TERMINAL, 30_000);
    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null });
    expect(stageRuns(done.events)).toEqual(["QUEUED", "STARTING", "RETRIEVING", "DRAFTING", "VALIDATING", "SAVING", "DONE"]);
    expect(await iepCount(pool, generation.id)).toBe(1);
    expect(streamRequests(stack.simulator) - streamsBefore).toBe(1);
    // Picked up within a few seconds: once the row has been QUEUED for the grace period (the dead-after
    // time), by the next reconcile (every reconcileMs); a little slack for a loaded machine.
    const { rows } = await pool.query<{ ms: number }>(
      `select extract(epoch from (e.created_at - g.created_at)) * 1000 as ms
       from generation_events e join generations g on g.id = e.generation_id
       where e.generation_id = $1 and e.stage = 'starting'`, [generation.id]);
    expect(rows).toHaveLength(1);
    console.info(`reconciler: QUEUED without a job → started after ${Math.round(Number(rows[0]!.ms))} ms`);
    const { deadAfterMs, reconcileMs } = TEST_RECOVERY_TIMINGS;
    expect(Number(rows[0]!.ms)).toBeGreaterThanOrEqual(deadAfterMs);
    expect(Number(rows[0]!.ms)).toBeLessThan(deadAfterMs + reconcileMs + 3000);
    await waitFor(async () => !(await jobByKey(pool, jobKey(generation.id))), 10_000, "the re-added job to complete");
    // One job, added once and run once.
    const seen = await jobs.stop();
    expect(seen).toMatchObject({ mostKeyed: 1, mostAll: 1 });
    expect(seen.keyedIds.size).toBe(1);
  }, 60_000);
});
