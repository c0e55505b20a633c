import { spawn, type ChildProcess } from "node:child_process";
import type { Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import { insertUser } from "../src/db/schools.ts";
import type { GeminiSimulator } from "../src/gemini/simulator/server.ts";
import { cancelGeneration, requestIepGeneration } from "../src/services/generation/request.ts";
import { runGeneration } from "../src/services/generation/run.ts";
import {
  EVIDENCE_DOCS,
  GENERATE_IEP,
  GENERATION,
  generate,
  storedEvents,
  studentWithEvidence,
  waitForStatus,
  slowNextStream,
  watchGenerationEvents,
  wsClient,
} from "./helpers/generation.ts";
import {
  addReadyEvidence,
  createStudentViaApi,
  startTestStack,
  TEST_JWT_SECRET,
  waitFor,
  type TestStack,
  OUTAGE_RETRY_DELAY_MS,
  testLogger,
} from "./helpers/stack.ts";
import { cleanEnv, ROOT } from "./helpers/process.ts";
import { jobById, jobByKey, jobsForTask, type JobRow } from "./helpers/jobs.ts";


const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) {
    cancelGeneration(id: $id) {
      __typename
      ... on CancelGenerationSuccess { generation { id status stage message finishedAt lastSeq iep { id } } }
      ... on InvalidStateError { message currentState }
      ... on NotFoundError { message resourceType resourceId }
    }
  }
`;

const RETRY = /* GraphQL */ `
  mutation Retry($id: ID!) {
    retryGeneration(id: $id) {
      __typename
      ... on GenerateIepSuccess { created generation { id status attempts error stage message lastSeq finishedAt startedAt queuePosition } }
      ... on InvalidStateError { message currentState }
      ... on NotFoundError { message resourceType resourceId }
    }
  }
`;

const QUEUE_VIEW = /* GraphQL */ `
  query Queue($id: ID!) { generation(id: $id) { id status priority queuePosition } }
`;

/** A generation's job key (`generate_iep:<generation id>`): a second enqueue replaces rather than duplicates. */
const jobKey = (generationId: string) => `generate_iep:${generationId}`;

/**
 * A generation's current job: the one holding its key. (A job that was running when it was
 * replaced by a reschedule, or removed by a cancel, loses its key: follow it by id instead.)
 */
async function jobFor(stack: TestStack, generationId: string): Promise<JobRow | undefined> {
  return jobByKey(stack.runtime.pool, jobKey(generationId));
}

/** The keys of every queued or running generate_iep job, in the order graphile-worker picks them. */
async function queuedJobKeys(stack: TestStack): Promise<(string | null)[]> {
  return (await jobsForTask(stack.runtime.pool, "generate_iep")).map((job) => job.key);
}

async function jobExists(stack: TestStack, jobId: string): Promise<boolean> {
  return (await jobById(stack.runtime.pool, jobId)) !== undefined;
}

async function iepCount(stack: TestStack, generationId: string): Promise<number> {
  const { rows } = await stack.runtime.pool.query<{ n: number }>("select count(*)::int as n from ieps where generation_id = $1", [generationId]);
  return rows[0]!.n;
}

async function storedSeqs(stack: TestStack, generationId: string): Promise<number[]> {
  const { rows } = await stack.runtime.pool.query<{ seq: number }>(
    "select seq from generation_events where generation_id = $1 order by seq", [generationId]);
  return rows.map((r) => r.seq);
}

async function cancel(stack: TestStack, id: string, token?: string) {
  const result = await stack.gql(CANCEL, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data.cancelGeneration;
}

async function retry(stack: TestStack, id: string, token?: string) {
  const result = await stack.gql(RETRY, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data.retryGeneration;
}

async function view(stack: TestStack, id: string, token?: string) {
  const result = await stack.gql(GENERATION, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data.generation;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stored seqs must be 1..n with no gap and no repeat; deltas repeat the latest stored seq. */
function expectStrictSeqs(seqs: number[]): void {
  expect(seqs.length).toBeGreaterThan(0);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
}

const streamRequests = (simulator: GeminiSimulator) => simulator.requests.filter((r) => r.operation === "stream").length;

describe("generation control: queued, without a worker", () => {
  let stack: TestStack;
  let studentId: string;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    studentId = await createStudentViaApi(stack, { firstName: "Queued" });
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function queuedCount(): Promise<number> {
    const { rows } = await stack.runtime.pool.query<{ n: number }>("select count(*)::int as n from generations where status = 'QUEUED'");
    return rows[0]!.n;
  }

  it("cancels a QUEUED generation: its job is removed, CANCELLED is the latest event, a second cancel is an InvalidStateError", async () => {
    const generation = await generate(stack, { studentId });
    expect(generation.status).toBe("QUEUED");
    const job = await jobFor(stack, generation.id);
    expect(job).toMatchObject({ key: jobKey(generation.id), task_identifier: "generate_iep", locked_at: null, priority: 0, max_attempts: 3 });
    // It is the only generation job (there is no worker, and every test here leaves the queue empty).
    expect(await queuedJobKeys(stack)).toEqual([jobKey(generation.id)]);

    // Another school cannot see (or cancel) it.
    const outsider = await stack.createTenant();
    expect(await cancel(stack, generation.id, outsider.token)).toMatchObject({ __typename: "NotFoundError", resourceType: "Generation", resourceId: generation.id });
    expect(await jobFor(stack, generation.id)).toMatchObject({ id: job!.id });

    const cancelled = await cancel(stack, generation.id);
    expect(cancelled.__typename).toBe("CancelGenerationSuccess");
    expect(cancelled.generation).toMatchObject({ id: generation.id, status: "CANCELLED", stage: "CANCELLED", iep: null });
    expect(cancelled.generation.finishedAt).not.toBeNull();
    expect(await jobFor(stack, generation.id)).toBeUndefined();
    expect(await jobExists(stack, job!.id)).toBe(false);
    expect(await queuedJobKeys(stack)).toEqual([]);

    const after = await view(stack, generation.id);
    expect(after.status).toBe("CANCELLED");
    expect(after.queuePosition).toBeNull();
    expect(after.events.at(-1)).toMatchObject({ seq: after.lastSeq, status: "CANCELLED" });
    expect(after.events.map((e: { status: string }) => e.status)).toEqual(["QUEUED", "CANCELLED"]);
    expect(await storedSeqs(stack, generation.id)).toEqual([1, 2]);

    const again = await cancel(stack, generation.id);
    expect(again).toMatchObject({ __typename: "InvalidStateError", currentState: "CANCELLED" });
    expect(again.message).toMatch(/already CANCELLED/);
    expect((await view(stack, generation.id)).lastSeq).toBe(after.lastSeq);

    // Retrying the CANCELLED one queues it again with a fresh job under the same key.
    const retried = await retry(stack, generation.id);
    expect(retried.__typename).toBe("GenerateIepSuccess");
    expect(retried.created).toBe(false);
    expect(retried.generation).toMatchObject({ id: generation.id, status: "QUEUED", attempts: 0, error: null, finishedAt: null });
    expect(retried.generation.queuePosition).toBeGreaterThanOrEqual(1);
    const requeued = await jobFor(stack, generation.id);
    expect(requeued).toMatchObject({ key: jobKey(generation.id), locked_at: null });
    expect(requeued!.id).not.toBe(job!.id);
    expect(await queuedJobKeys(stack)).toEqual([jobKey(generation.id)]);

    // A QUEUED generation cannot be retried.
    const notRetryable = await retry(stack, generation.id);
    expect(notRetryable).toMatchObject({ __typename: "InvalidStateError", currentState: "QUEUED" });
    expect(await jobFor(stack, generation.id)).toMatchObject({ id: requeued!.id });
    expect(await queuedJobKeys(stack)).toEqual([jobKey(generation.id)]);

    expect((await cancel(stack, generation.id)).generation.status).toBe("CANCELLED");
    expect(await queuedJobKeys(stack)).toEqual([]);
    expect(await storedSeqs(stack, generation.id)).toEqual([1, 2, 3, 4]);
  });

  it("orders the queue by priority (smaller first) and gives the jobs those priorities", async () => {
    expect(await queuedCount()).toBe(0);
    const low = await generate(stack, { studentId, priority: 5 });
    const normal = await generate(stack, { studentId, priority: 0 });
    const urgent = await generate(stack, { studentId, priority: -5 });
    try {
      const positions: Record<string, number> = {};
      for (const [name, g] of [["low", low], ["normal", normal], ["urgent", urgent]] as const) {
        const { data } = await stack.gql(QUEUE_VIEW, { id: g.id });
        positions[name] = data.generation.queuePosition;
      }
      expect(positions).toEqual({ urgent: 1, normal: 2, low: 3 });
      // A job's priority is the generation's plus its fair queue rank (the school's drafts already queued: 0, 1, 2).
      for (const [g, priority] of [[low, 5 + 0], [normal, 0 + 1], [urgent, -5 + 2]] as const) {
        expect(await jobFor(stack, g.id)).toMatchObject({ priority, key: jobKey(g.id) });
      }
      // graphile-worker itself would pick them in the same order (and there are no other jobs).
      expect(await queuedJobKeys(stack)).toEqual([urgent, normal, low].map((g) => jobKey(g.id)));

      // Out-of-range priorities are a typed ValidationError and write nothing.
      const invalid = await stack.gql(GENERATE_IEP, { input: { studentId, priority: 101 } });
      expect(invalid.data.generateIep).toMatchObject({ __typename: "ValidationError" });
      expect(invalid.data.generateIep.fieldErrors.map((f: { path: string[] }) => f.path)).toContainEqual(["priority"]);
      expect(await queuedCount()).toBe(3);
    } finally {
      for (const g of [low, normal, urgent]) await cancel(stack, g.id);
    }
    expect(await queuedCount()).toBe(0);
  });

  it("returns one generation for a repeated idempotency key, even for concurrent requests; another user gets their own", async () => {
    const key = `idem-${Math.random().toString(36).slice(2)}`;
    const input = { studentId, idempotencyKey: key };
    const [a, b] = await Promise.all([
      stack.gql(GENERATE_IEP, { input, async: true }),
      stack.gql(GENERATE_IEP, { input, async: true }),
    ]);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    const first = a.data.generateIep;
    const second = b.data.generateIep;
    expect(first.__typename).toBe("GenerateIepSuccess");
    expect(second.__typename).toBe("GenerateIepSuccess");
    expect(first.generation.id).toBe(second.generation.id);
    expect([first.created, second.created].sort()).toEqual([false, true]);
    const id = first.generation.id as string;

    const third = (await stack.gql(GENERATE_IEP, { input, async: true })).data.generateIep;
    expect(third).toMatchObject({ __typename: "GenerateIepSuccess", created: false, generation: { id, status: "QUEUED" } });

    const { rows } = await stack.runtime.pool.query<{ n: number }>("select count(*)::int as n from generations where idempotency_key = $1", [key]);
    expect(rows[0]!.n).toBe(1);
    // One job in the whole queue: the concurrent requests did not enqueue twice.
    expect(await queuedJobKeys(stack)).toEqual([jobKey(id)]);
    expect(await storedSeqs(stack, id)).toEqual([1]);

    // A colleague in the same school with the same key gets a generation of their own.
    const colleague = await insertUser(stack.runtime.pool, {
      schoolId: stack.tenant.schoolId, email: `colleague-${key}@example.org`, name: "Colleague", role: "TEACHER",
    });
    const colleagueToken = await signToken({ userId: colleague.id, schoolId: stack.tenant.schoolId, role: "TEACHER" }, TEST_JWT_SECRET);
    // A TEACHER drafts only for students on their caseload.
    await stack.runtime.pool.query("insert into student_assignments (school_id, user_id, student_id) values ($1, $2, $3)",
      [stack.tenant.schoolId, colleague.id, input.studentId]);
    const theirs = (await stack.gql(GENERATE_IEP, { input, async: true }, colleagueToken)).data.generateIep;
    expect(theirs.__typename).toBe("GenerateIepSuccess");
    expect(theirs.created).toBe(true);
    expect(theirs.generation.id).not.toBe(id);
    expect((await queuedJobKeys(stack)).sort()).toEqual([jobKey(id), jobKey(theirs.generation.id)].sort());
    const both = await stack.runtime.pool.query<{ n: number }>("select count(*)::int as n from generations where idempotency_key = $1", [key]);
    expect(both.rows[0]!.n).toBe(2);

    for (const g of [id, theirs.generation.id as string]) await cancel(stack, g);
    expect(await queuedCount()).toBe(0);
  });

  it("rolls back the generation, its event and its job when the transaction that added them fails at commit", async () => {
    const pool = stack.runtime.pool;
    const counts = async () =>
      (await pool.query<{ generations: number; events: number; jobs: number }>(
        `select (select count(*)::int from generations) as generations,
                (select count(*)::int from generation_events) as events,
                (select count(*)::int from graphile_worker.jobs) as jobs`,
      )).rows[0]!;
    // The transaction is made to fail as late as possible: a deferred constraint trigger on our own
    // `generations` table runs at COMMIT, after the generation, its QUEUED event and its job were
    // all written, and raises only if the generation's job is already visible to it (read through
    // graphile-worker's public `jobs` view; graphile's private tables are left alone). So:
    //  - the job is added on another connection (committed on its own): the orphan job survives
    //    the rollback and the counts differ;
    //  - the job is added after the commit: the trigger finds no job and does not raise, so the
    //    generation commits and the request succeeds;
    //  - the job is added in the same transaction: the trigger raises, and nothing is left.
    await pool.query(`create function fail_generation_commit() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from graphile_worker.jobs where key = 'generate_iep:' || new.id) then
          raise exception 'simulated failure at commit, after the generation''s job was added';
        end if;
        return null;
      end $$`);
    await pool.query(`create constraint trigger fail_generation_commit after insert on generations
      deferrable initially deferred for each row execute function fail_generation_commit()`);
    try {
      const before = await counts();
      const result = await stack.gql(GENERATE_IEP, { input: { studentId, instructions: "doomed" }, async: true });
      expect(result.data?.generateIep ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
      expect(result.errors?.[0]?.message).toBe("Unexpected error.");
      expect(await counts()).toEqual(before);
      // The API masks the cause; the service shows it is the simulated one (the job was there at commit).
      const viewer = { userId: stack.tenant.userId, schoolId: stack.tenant.schoolId, role: "CASE_MANAGER" as const };
      await expect(requestIepGeneration(pool, viewer, { studentId, instructions: "doomed" }, { enqueue: true, log: testLogger() }))
        .rejects.toThrow(/simulated failure at commit, after the generation's job was added/);
      expect(await counts()).toEqual(before);
      const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from generations where instructions = 'doomed'");
      expect(rows[0]!.n).toBe(0);
    } finally {
      await pool.query("drop trigger fail_generation_commit on generations");
      await pool.query("drop function fail_generation_commit()");
    }
    // The queue works again once the trigger is gone.
    const ok = await generate(stack, { studentId });
    expect(await jobFor(stack, ok.id)).toMatchObject({ key: jobKey(ok.id), locked_at: null });
    await cancel(stack, ok.id);
  });
});

describe("generation control: with the worker", () => {
  let stack: TestStack;
  let studentId: string;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    studentId = await studentWithEvidence(stack);
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await stack?.close();
  });

  it("cancels a RUNNING generation within 2 s: the Gemini stream is aborted, no IEP is saved, the job finishes", async () => {
    const restore = slowNextStream(stack.simulator, 8000);
    let cancelledId: string;
    try {
      const streamsBefore = streamRequests(stack.simulator);
      const generation = await generate(stack, { studentId });
      cancelledId = generation.id;
      await waitFor(async () => {
        const g = (await stack.gql(QUEUE_VIEW, { id: generation.id })).data.generation;
        return g.status === "RUNNING" && streamRequests(stack.simulator) > streamsBefore;
      }, 10_000, "the draft stream to be in flight");
      const running = await view(stack, generation.id);
      expect(running).toMatchObject({ status: "RUNNING", stage: "DRAFTING", attempts: 1 });
      // The running job holds the key until the cancel removes it (then it keeps running, keyless).
      const job = await jobFor(stack, generation.id);
      expect(job).toMatchObject({ locked_at: expect.any(Date), attempts: 1 });

      // A RUNNING generation cannot be retried.
      expect(await retry(stack, generation.id)).toMatchObject({ __typename: "InvalidStateError", currentState: "RUNNING" });

      const client = wsClient(stack);
      clients.push(client);
      const subscription = watchGenerationEvents(client, generation.id);
      await subscription.first;

      const started = performance.now();
      const cancelled = await cancel(stack, generation.id);
      expect(cancelled).toMatchObject({ __typename: "CancelGenerationSuccess", generation: { id: generation.id, status: "CANCELLED" } });
      await waitForStatus(stack, generation.id, ["CANCELLED"], 2000);
      const cancelledWithinMs = performance.now() - started;
      expect(cancelledWithinMs).toBeLessThan(2000);

      // The worker's run ends: the aborted stream does not wait out the simulator's 8 s latency.
      await waitFor(async () => !(await jobExists(stack, job!.id)), 5000, "the cancelled job to finish");
      const jobFinishedMs = performance.now() - started;
      expect(jobFinishedMs).toBeLessThan(3000);

      const { events, timedOut } = await subscription.done;
      expect(timedOut).toBe(false);
      const stored = storedEvents(events);
      expect(stored.at(-1)).toMatchObject({ status: "CANCELLED", seq: cancelled.generation.lastSeq });
      expect(stored.filter((e) => e.status === "CANCELLED")).toHaveLength(1);
      expectStrictSeqs(stored.map((e) => e.seq));

      // It stays cancelled: nothing more is stored, no IEP, and the stream was not retried.
      await sleep(2000);
      const after = await view(stack, generation.id);
      expect(after).toMatchObject({ status: "CANCELLED", lastSeq: cancelled.generation.lastSeq, iep: null });
      expect(after.events.at(-1)).toMatchObject({ status: "CANCELLED", stage: "CANCELLED" });
      expect(after.events.some((e: { stage: string }) => e.stage === "VALIDATING" || e.stage === "SAVING")).toBe(false);
      expect(await iepCount(stack, generation.id)).toBe(0);
      expect(streamRequests(stack.simulator)).toBe(streamsBefore + 1);
      expect(await jobFor(stack, generation.id)).toBeUndefined();
      console.info(`[generation-control] in-process cancel: CANCELLED after ${cancelledWithinMs.toFixed(0)} ms, job finished after ${jobFinishedMs.toFixed(0)} ms (stream latency 8000 ms)`);
    } finally {
      restore();
    }

    // A CANCELLED generation can be retried to completion.
    const retried = await retry(stack, cancelledId);
    expect(retried).toMatchObject({ __typename: "GenerateIepSuccess", created: false, generation: { status: "QUEUED", attempts: 0 } });
    const done = await waitForStatus(stack, cancelledId, ["SUCCEEDED", "FAILED"], 20_000);
    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null });
    expect(done.iep?.id).toBeTruthy();
    expect(await iepCount(stack, cancelledId)).toBe(1);
    expectStrictSeqs(await storedSeqs(stack, cancelledId));
    expect(await storedSeqs(stack, cancelledId)).toEqual(done.events.map((e: { seq: number }) => e.seq));
  });

  it("a draft that fails while a progress checkpoint is still being stored leaves no unhandled rejection", async () => {
    // Regression: checkpoint events were chained on a promise nobody awaited once the stream threw,
    // so a checkpoint rejecting because the generation was cancelled (or put back to QUEUED) was an
    // unhandled rejection, which crashes a worker process.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const viewer = { userId: stack.tenant.userId, schoolId: stack.tenant.schoolId, role: "CASE_MANAGER" as const };
      const { generation } = await requestIepGeneration(stack.runtime.pool, viewer, { studentId }, { enqueue: false, log: testLogger() });
      const real = stack.runtime.gemini;
      const gemini: typeof real = {
        config: real.config, sdk: real.sdk, caller: real.caller, embed: real.embed,
        async streamJson(request) {
          await cancelGeneration(stack.runtime.pool, viewer, generation.id, testLogger());
          request.onDelta("x".repeat(4000)); // crosses a progress checkpoint: its event is stored in the background
          throw new Error("stream broke");
        },
      };
      const ended = await runGeneration({ ...stack.runtime.deps, gemini }, generation.id);
      expect(ended?.status).toBe("CANCELLED");
      await sleep(200);
      expect(unhandled.map(String)).toEqual([]);
      const after = await view(stack, generation.id);
      expect(after).toMatchObject({ status: "CANCELLED", iep: null });
      expect(after.events.at(-1)).toMatchObject({ status: "CANCELLED", stage: "CANCELLED" });
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("retries a FAILED generation (no READY evidence) after evidence is added, without reusing event seqs", async () => {
    const bare = await createStudentViaApi(stack, { firstName: "Bare" });
    const generation = await generate(stack, { studentId: bare });
    const failed = await waitForStatus(stack, generation.id, ["FAILED", "SUCCEEDED"], 15_000);
    expect(failed).toMatchObject({ status: "FAILED", attempts: 1, stage: "FAILED", iep: null });
    expect(failed.error).toMatch(/no READY evidence/);
    expect(failed.finishedAt).not.toBeNull();
    // A permanent failure is not retried by the queue: the job is done.
    await waitFor(async () => !(await jobFor(stack, generation.id)), 5000, "the failed job to be removed");
    const failedSeqs = failed.events.map((e: { seq: number }) => e.seq);
    expect(failedSeqs.at(-1)).toBe(failed.lastSeq);

    for (const doc of EVIDENCE_DOCS.slice(0, 3)) await addReadyEvidence(stack, bare, doc);

    const retried = await retry(stack, generation.id);
    expect(retried.__typename).toBe("GenerateIepSuccess");
    expect(retried.created).toBe(false);
    expect(retried.generation).toMatchObject({ id: generation.id, status: "QUEUED", attempts: 0, error: null, finishedAt: null, startedAt: null });
    expect(retried.generation.lastSeq).toBe(failed.lastSeq + 1);

    const client = wsClient(stack);
    clients.push(client);
    const { events, timedOut } = await watchGenerationEvents(client, generation.id, { afterSeq: failed.lastSeq }).done;
    expect(timedOut).toBe(false);
    const stored = storedEvents(events);
    expect(stored[0]).toMatchObject({ seq: failed.lastSeq + 1, status: "QUEUED" });
    expect(stored.at(-1)?.status).toBe("SUCCEEDED");
    expect(stored.every((e) => e.seq > failed.lastSeq)).toBe(true);
    expectStrictSeqs(stored.map((e) => e.seq));

    const succeeded = await view(stack, generation.id);
    expect(succeeded).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null, stage: "DONE" });
    expect(succeeded.iep?.id).toBeTruthy();
    expect(await iepCount(stack, generation.id)).toBe(1);
    const seqs = await storedSeqs(stack, generation.id);
    expect(seqs).toEqual(Array.from({ length: succeeded.lastSeq }, (_, i) => i + 1));
    expect(succeeded.events.map((e: { status: string }) => e.status)).toEqual(expect.arrayContaining(["FAILED", "QUEUED", "RUNNING", "SUCCEEDED"]));
    const failedAt = succeeded.events.findIndex((e: { status: string }) => e.status === "FAILED");
    expect(succeeded.events[failedAt + 1]).toMatchObject({ status: "QUEUED", message: "Queued again (retry requested)" });

    // A SUCCEEDED generation cannot be retried (or cancelled).
    expect(await retry(stack, generation.id)).toMatchObject({ __typename: "InvalidStateError", currentState: "SUCCEEDED" });
    expect(await cancel(stack, generation.id)).toMatchObject({ __typename: "InvalidStateError", currentState: "SUCCEEDED" });
    expect((await view(stack, generation.id)).lastSeq).toBe(succeeded.lastSeq);
  });

  it("waits out a Gemini outage without using up an attempt, then succeeds", async () => {
    const streamsBefore = streamRequests(stack.simulator);
    // maxRetries 2 → 3 stream calls in one attempt, all failing: Gemini counts as unavailable.
    stack.simulator.injectFault({ kind: "server_error" }, { times: 3, operation: "stream" });
    try {
      const started = Date.now();
      const generation = await generate(stack, { studentId });
      const { waiting, job } = await waitFor(async () => {
        const g = (await stack.gql(GENERATION, { id: generation.id })).data.generation;
        if (g.status === "SUCCEEDED" || g.status === "FAILED") throw new Error(`ended ${g.status} without waiting for Gemini`);
        if (g.status !== "QUEUED" || g.stage !== "WAITING_FOR_GEMINI") return undefined;
        // The generation went back to QUEUED in the transaction that added its new job under the
        // same key, so the key now names the new job (the old one, still finishing, lost it).
        const rescheduled = await jobFor(stack, generation.id);
        return rescheduled ? { waiting: g, job: rescheduled } : undefined;
      }, 10_000, "QUEUED while Gemini is unavailable, with its job rescheduled");
      expect(waiting.attempts).toBe(0);
      expect(waiting.message).toMatch(/Gemini is unavailable; trying again at .* \(this does not use up an attempt\)/);
      expect(waiting.error).toMatch(/Gemini draft failed after 3 attempts/);
      expect(job).toMatchObject({ attempts: 0, max_attempts: 3 });
      expect(job.run_at.getTime() - started).toBeGreaterThanOrEqual(OUTAGE_RETRY_DELAY_MS - 200);

      const done = await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED"], 15_000);
      expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, maxAttempts: 3, error: null });
      expect(await iepCount(stack, generation.id)).toBe(1);
      expect(streamRequests(stack.simulator) - streamsBefore).toBe(4);
      // Both jobs finish: the rescheduled one and the keyless one it replaced (no other generation is queued).
      await waitFor(async () => (await queuedJobKeys(stack)).length === 0, 5000, "the generation's jobs to finish");
      expectStrictSeqs(await storedSeqs(stack, generation.id));
    } finally {
      stack.simulator.clearFaults();
    }
  });

  it("does not start queued drafts while the circuit is open: their jobs wait for it, with no attempt or event", async () => {
    const breaker = stack.runtime.gemini.caller.breaker;
    breaker.open();
    let generation: { id: string };
    try {
      const started = Date.now();
      generation = await generate(stack, { studentId });
      const deferred = await waitFor(async () => {
        const job = await jobFor(stack, generation.id);
        return job && job.run_at.getTime() >= started + OUTAGE_RETRY_DELAY_MS - 200 && job.attempts === 0 && job;
      }, 10_000, "the job deferred to when the circuit half-opens");
      expect(deferred.locked_by).toBeNull();
      const waiting = await view(stack, generation.id);
      expect(waiting).toMatchObject({ status: "QUEUED", stage: "QUEUED", attempts: 0, lastSeq: 1 });
    } finally {
      breaker.close();
    }
    const done = await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED"], 15_000);
    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    const stages = done.events.map((e: { stage: string }) => e.stage);
    expect(stages.filter((stage: string) => stage === "STARTING")).toHaveLength(1);
    expect(stages).not.toContain("WAITING_FOR_GEMINI");
  });

  it("survives an outage long enough to open the circuit breaker, losing nothing", async () => {
    stack.simulator.injectFault({ kind: "server_error" }, { times: Infinity, operation: "stream" });
    const generation = await generate(stack, { studentId });
    try {
      await waitFor(async () => stack.runtime.gemini.caller.breaker.opened, 20_000, "the circuit breaker to open");
      const during = (await stack.gql(GENERATION, { id: generation.id })).data.generation;
      expect(["QUEUED", "RUNNING"]).toContain(during.status);
      expect(during.attempts).toBeLessThanOrEqual(1);
    } finally {
      stack.simulator.clearFaults();
    }
    const done = await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED"], 20_000);
    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null });
    const outageWaits = done.events.filter((e: { stage: string }) => e.stage === "WAITING_FOR_GEMINI");
    expect(outageWaits.length).toBeGreaterThanOrEqual(2);
    expect(await iepCount(stack, generation.id)).toBe(1);
  }, 45_000);

  it("marks a generation FAILED once every attempt's draft and its one repair are rejected (3 attempts, with backoff)", async () => {
    stack.simulator.setGenerateHandler(() => ({ notAnIep: true }));
    try {
      const streamsBefore = streamRequests(stack.simulator);
      const generation = await generate(stack, { studentId });
      const failed = await waitForStatus(stack, generation.id, ["FAILED", "SUCCEEDED"], 25_000);
      expect(failed).toMatchObject({ status: "FAILED", attempts: 3, maxAttempts: 3, stage: "FAILED", iep: null });
      expect(failed.error).toMatch(/does not match the IEP schema/);
      const retryWaits = failed.events.filter((e: { stage: string }) => e.stage === "WAITING_TO_RETRY");
      expect(retryWaits.map((e: { message: string }) => e.message)).toEqual([
        expect.stringMatching(/^Attempt 1 of 3 failed; retrying at \d{4}-/),
        expect.stringMatching(/^Attempt 2 of 3 failed; retrying at \d{4}-/),
      ]);
      // Each attempt asked once for a repair with the validation errors before counting as failed.
      expect(failed.events.filter((e: { stage: string }) => e.stage === "REPAIRING")).toHaveLength(3);
      expect(streamRequests(stack.simulator) - streamsBefore).toBe(6);
      const repairs = stack.simulator.requests.filter((r) => r.operation === "stream" && JSON.stringify(r.body).includes("rejected by validation"));
      expect(repairs.length).toBeGreaterThanOrEqual(3);
      await waitFor(async () => !(await jobFor(stack, generation.id)), 5000, "the last job attempt to complete");
      expect(await iepCount(stack, generation.id)).toBe(0);
    } finally {
      stack.simulator.setGenerateHandler(undefined);
    }
  }, 40_000);
});

describe("generation control: the worker in a separate process", () => {
  let stack: TestStack;
  let child: ChildProcess | undefined;
  let childExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  let childStderr = "";
  let exited = false;
  let studentId: string;
  const clients: WsClient[] = [];

  async function listeners(): Promise<number> {
    const { rows } = await stack.runtime.pool.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'iepgen-listen'",
      [stack.db.name],
    );
    return rows[0]!.n;
  }

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    child = spawn(process.execPath, ["src/main.ts", "worker"], {
      cwd: ROOT,
      env: cleanEnv({
        DATABASE_URL: stack.db.url,
        GEMINI_BASE_URL: stack.simulator.url,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: "warn",
        WORKER_CONCURRENCY: "2",
      }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (chunk: Buffer) => (childStderr += chunk.toString()));
    childExit = new Promise((resolve) => child!.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }));
    // Ready once the worker process LISTENs too (the API process is the other listener).
    await waitFor(async () => {
      if (exited) throw new Error(`worker process exited early:\n${childStderr}`);
      return (await listeners()) >= 2;
    }, 30_000, "the worker process to start");
    // Ingestion runs in the worker process as well.
    studentId = await studentWithEvidence(stack);
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    let graceful: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    if (child && !exited) {
      const stopping = performance.now();
      child.kill("SIGTERM");
      graceful = await Promise.race([childExit!, sleep(10_000).then(() => undefined)]);
      if (!graceful) {
        child.kill("SIGKILL");
        await childExit;
      }
      console.info(`[generation-control] worker process after SIGTERM: ${graceful ? `exited ${JSON.stringify(graceful)} in ${(performance.now() - stopping).toFixed(0)} ms` : "killed after 10 s"}`);
    }
    await stack?.close();
    // SIGTERM stops the worker gracefully: it exits by itself, successfully.
    expect(graceful).toEqual({ code: 0, signal: null });
  }, 30_000);

  it("streams a generation run by the other process live to an API-process subscriber, text deltas included", async () => {
    expect(stack.runtime.worker).toBeUndefined();
    expect(exited).toBe(false);
    stack.simulator.setLatencyMs(300);
    try {
      const generation = await generate(stack, { studentId });
      const client = wsClient(stack);
      clients.push(client);
      const { events, timedOut } = await watchGenerationEvents(client, generation.id).done;
      expect(timedOut).toBe(false);
      const stored = storedEvents(events);
      expect(stored[0]).toMatchObject({ seq: 1, status: "QUEUED" });
      expect(stored.at(-1)).toMatchObject({ status: "SUCCEEDED", stage: "DONE", progress: 1 });
      expectStrictSeqs(stored.map((e) => e.seq));
      expect(stored.map((e) => e.stage)).toEqual(expect.arrayContaining(["STARTING", "RETRIEVING", "DRAFTING", "VALIDATING", "SAVING", "DONE"]));
      const deltas = events.filter((e) => e.textDelta !== null);
      expect(deltas.length).toBeGreaterThanOrEqual(1);
      // Deltas arrive while drafting, between the drafting and validating events.
      for (const delta of deltas) expect(delta).toMatchObject({ status: "RUNNING", stage: "DRAFTING" });
      const text = deltas.map((d) => d.textDelta).join("");
      expect(() => JSON.parse(text)).not.toThrow();

      const done = await view(stack, generation.id);
      expect(done.status).toBe("SUCCEEDED");
      expect(done.iep.model).toMatch(/simulator/);
      expect(done.events.map((e: { seq: number }) => e.seq)).toEqual(stored.map((e) => e.seq));
      expect(await iepCount(stack, generation.id)).toBe(1);
    } finally {
      stack.simulator.setLatencyMs(0);
    }
  });

  it("cancels a generation RUNNING in the other process: it aborts its Gemini stream within 2 s and saves nothing", async () => {
    const restore = slowNextStream(stack.simulator, 8000);
    try {
      const streamsBefore = streamRequests(stack.simulator);
      const generation = await generate(stack, { studentId });
      await waitFor(async () => {
        const g = (await stack.gql(QUEUE_VIEW, { id: generation.id })).data.generation;
        return g.status === "RUNNING" && streamRequests(stack.simulator) > streamsBefore;
      }, 15_000, "the draft stream to be in flight");
      expect(await view(stack, generation.id)).toMatchObject({ status: "RUNNING", stage: "DRAFTING" });
      const job = await jobFor(stack, generation.id);
      expect(job).toMatchObject({ locked_at: expect.any(Date), locked_by: expect.any(String) });

      const client = wsClient(stack);
      clients.push(client);
      const subscription = watchGenerationEvents(client, generation.id);
      await subscription.first;

      const started = performance.now();
      const cancelled = await cancel(stack, generation.id);
      expect(cancelled).toMatchObject({ __typename: "CancelGenerationSuccess", generation: { status: "CANCELLED" } });
      await waitForStatus(stack, generation.id, ["CANCELLED"], 2000);
      await waitFor(async () => !(await jobExists(stack, job!.id)), 5000, "the worker process to finish the cancelled job");
      const jobFinishedMs = performance.now() - started;
      expect(jobFinishedMs).toBeLessThan(2000);

      const { events, timedOut } = await subscription.done;
      expect(timedOut).toBe(false);
      expect(storedEvents(events).at(-1)).toMatchObject({ status: "CANCELLED", seq: cancelled.generation.lastSeq });

      await sleep(1500);
      const after = await view(stack, generation.id);
      expect(after).toMatchObject({ status: "CANCELLED", lastSeq: cancelled.generation.lastSeq, iep: null });
      expect(await iepCount(stack, generation.id)).toBe(0);
      expect(streamRequests(stack.simulator)).toBe(streamsBefore + 1);
      expect(exited).toBe(false);
      console.info(`[generation-control] cross-process cancel: worker process finished the job ${jobFinishedMs.toFixed(0)} ms after cancel (stream latency 8000 ms)`);
    } finally {
      restore();
    }
  });
});
