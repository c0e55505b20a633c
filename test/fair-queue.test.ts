import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, waitForStatus } from "./helpers/generation.ts";
import { jobsForTask } from "./helpers/jobs.ts";
import { addReadyEvidence, createStudentViaApi, startTestStack, waitFor, type Tenant, type TestStack } from "./helpers/stack.ts";
import { startWorkerProcess } from "./helpers/worker-process.ts";

const GENERATE_BATCH = /* GraphQL */ `
  mutation FairBatch($input: GenerateIepsInput!) {
    generateIeps(input: $input) { __typename ... on GenerateIepsSuccess { batch { id generations { id } } } ... on Error { message } }
  }
`;

const STARTED = /* GraphQL */ `
  query FairStarted($id: ID!) { generation(id: $id) { id status startedAt queuePosition } }
`;

const CANCEL = /* GraphQL */ `
  mutation FairCancel($id: ID!) { cancelGeneration(id: $id) { __typename } }
`;

const EVIDENCE = { title: "Reading fluency", body: "Oral reading fluency rose from 18 to 44 words correct per minute with 92% accuracy." };

/**
 * Fair scheduling across schools (migrations/0013_fair_queue.sql): a job runs at its generation's
 * priority plus its rank among its school's queued drafts, so a school's single request is not
 * queued behind another school's batch, and priorities still order drafts inside a school.
 */
describe("fair scheduling across schools", () => {
  let stack: TestStack;
  let schoolA: Tenant;
  let schoolB: Tenant;
  const studentsA: string[] = [];
  let studentB: string;

  beforeAll(async () => {
    // Each draft waits on the simulator, so the worker's 2 slots stay busy while the test looks.
    stack = await startTestStack({ latencyMs: 250 });
    schoolA = await stack.createTenant("ADMIN");
    schoolB = await stack.createTenant("ADMIN");
    for (let i = 0; i < 8; i++) studentsA.push(await createStudentViaApi(stack, { firstName: `A${i}` }, schoolA.token));
    for (const id of studentsA.slice(0, 1)) await addReadyEvidence(stack, id, EVIDENCE, schoolA.token);
    studentB = await createStudentViaApi(stack, { firstName: "B" }, schoolB.token);
    await addReadyEvidence(stack, studentB, EVIDENCE, schoolB.token);
    // From here on the queue fills with no worker taking jobs; the first test starts one itself.
    await stack.runtime.worker!.stop();
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  async function batchOf(tenant: Tenant, studentIds: string[]): Promise<string[]> {
    const result = await stack.gql(GENERATE_BATCH, { input: { studentIds } }, tenant.token);
    const generations = result.data?.generateIeps?.batch?.generations as { id: string }[] | undefined;
    if (!generations) throw new Error(`generateIeps failed: ${JSON.stringify(result)}`);
    return generations.map((g) => g.id);
  }

  async function startedAt(tenant: Tenant, id: string): Promise<number | undefined> {
    const generation = (await stack.gql(STARTED, { id }, tenant.token)).data?.generation;
    return generation?.startedAt ? Date.parse(generation.startedAt) : undefined;
  }

  it("keeps priorities working inside a school: an urgent request overtakes the school's own batch", async () => {
    const batch = await batchOf(schoolA, studentsA.slice(0, 5));
    const urgent = await generate(stack, { studentId: studentsA[5], priority: -50 }, { token: schoolA.token });
    const later = await generate(stack, { studentId: studentB }, { token: schoolB.token });

    const order = (await jobsForTask(stack.runtime.pool, "generate_iep")).map((job) => job.key);
    const keyOf = (id: string) => `generate_iep:${id}`;
    // Urgent first (-50 + rank 5), then B (0 + rank 0) beside A's first (0 + 0), then the rest of A.
    expect(order[0]).toBe(keyOf(urgent.id));
    expect(order.indexOf(keyOf(later.id))).toBeLessThanOrEqual(2);
    expect(batch.map(keyOf)).toEqual(expect.arrayContaining(order.slice(-3)));

    const position = async (tenant: Tenant, id: string) => (await stack.gql(STARTED, { id }, tenant.token)).data?.generation?.queuePosition as number;
    expect(await position(schoolA, urgent.id)).toBe(1);
    expect(await position(schoolB, later.id)).toBeLessThanOrEqual(3);
    const batchPositions = await Promise.all(batch.map((id) => position(schoolA, id)));
    expect(Math.max(...batchPositions)).toBe(7);
    for (const id of [...batch, urgent.id]) await stack.gql(CANCEL, { id }, schoolA.token);
    await stack.gql(CANCEL, { id: later.id }, schoolB.token);
  }, 60_000);
  it("starts school B's single draft as soon as a slot frees, not after school A's batch", async () => {
    const batch = await batchOf(schoolA, studentsA);
    const single = await generate(stack, { studentId: studentB }, { token: schoolB.token });
    expect((await stack.gql(STARTED, { id: single.id }, schoolB.token)).data?.generation?.queuePosition).toBe(2);

    const jobs = await jobsForTask(stack.runtime.pool, "generate_iep");
    const priorityOf = (id: string) => jobs.find((job) => job.key === `generate_iep:${id}`)?.priority;
    expect(priorityOf(single.id)).toBe(0);
    const queuedA = batch.map(priorityOf).filter((p): p is number => p !== undefined);
    expect(queuedA.every((p) => p >= 0)).toBe(true);
    expect(new Set(queuedA).size).toBe(queuedA.length);

    // Graphile-worker takes A's rank-0 draft (queued first), then B's, then the rest of A's batch.
    const worker = await startWorkerProcess(stack.db.url, stack.simulator.url, { WORKER_CONCURRENCY: "2", GEMINI_TIMEOUT_MS: "10000" });
    try {
      await checkBStartsEarly(batch, single.id);
    } finally {
      await worker.stop();
    }
  }, 90_000);

  async function checkBStartsEarly(batch: string[], singleId: string): Promise<void> {
    const bStarted = await waitFor(() => startedAt(schoolB, singleId), 30_000, "school B's draft to start");
    const aStartedBefore: number[] = [];
    for (const id of batch) {
      const at = await startedAt(schoolA, id);
      if (at !== undefined && at <= bStarted) aStartedBefore.push(at);
    }
    // B waits for one slot, never for A's whole batch.
    expect(aStartedBefore.length).toBeLessThanOrEqual(2);
    await waitForStatus(stack, singleId, ["SUCCEEDED"], 30_000, schoolB.token);
  }

});
