import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../src/runtime.ts";
import { collectGenerationEvents, generate, slowNextStream, storedEvents, studentWithEvidence, waitForStatus, wsClient } from "./helpers/generation.ts";
import { jobById, jobByKey } from "./helpers/jobs.ts";
import { startSecondApi, startTestStack, waitFor, type TestStack } from "./helpers/stack.ts";

/** Two API processes on one database (replicas behind a load balancer); the worker runs with the first. */
describe("several API processes", () => {
  let stack: TestStack;
  let second: Runtime;
  let studentId: string;

  beforeAll(async () => {
    stack = await startTestStack();
    second = await startSecondApi(stack);
    studentId = await studentWithEvidence(stack);
  });
  afterAll(async () => {
    await second?.close();
    await stack?.close();
  });

  /** The stack's helpers, pointed at the second process's socket. */
  function viaSecond(): TestStack {
    const url = second.server!.url;
    return { ...stack, httpUrl: url, graphqlUrl: `${url}/graphql`, wsUrl: `${url.replace(/^http/, "ws")}/graphql` };
  }

  it("streams a generation queued through one API process to a subscriber of another", async () => {
    stack.simulator.setLatencyMs(300);
    try {
      const generation = await generate(stack, { studentId });
      const client = wsClient(viaSecond());
      try {
        const events = await collectGenerationEvents(client, { id: generation.id });
        const stored = storedEvents(events);
        expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
        expect(stored.at(-1)?.status).toBe("SUCCEEDED");
        expect(events.some((e) => e.textDelta !== null)).toBe(true);
      } finally {
        await client.dispose();
      }
    } finally {
      stack.simulator.setLatencyMs(0);
    }
  });

  it("cancels, through the second process, a generation running in the first", async () => {
    const restore = slowNextStream(stack.simulator, 8000);
    try {
      const generation = await generate(stack, { studentId });
      await waitFor(async () => (await stack.runtime.pool.query("select stage from generations where id = $1", [generation.id])).rows[0].stage === "drafting",
        10_000, "drafting");
      // The running job holds the generation's key; the cancel removes the key (the job runs on,
      // keyless, until the worker lets go of it), so it is followed by its id from here on.
      const job = await jobByKey(stack.runtime.pool, `generate_iep:${generation.id}`);
      expect(job).toMatchObject({ locked_at: expect.any(Date) });
      const started = Date.now();
      const { data } = await viaSecond().gql(`mutation($id: ID!) { cancelGeneration(id: $id) { __typename ... on CancelGenerationSuccess { generation { status } } } }`,
        { id: generation.id });
      expect(data.cancelGeneration).toEqual({ __typename: "CancelGenerationSuccess", generation: { status: "CANCELLED" } });
      await waitFor(async () => !(await jobById(stack.runtime.pool, job!.id)),
        2000, "the worker in the first process to let go of the job");
      expect(Date.now() - started).toBeLessThan(2000);
      const done = await waitForStatus(stack, generation.id, ["CANCELLED", "SUCCEEDED", "FAILED"]);
      expect(done.status).toBe("CANCELLED");
      expect(done.iep).toBeNull();
    } finally {
      restore();
    }
  });

  it("hands a generation interrupted by a worker shutdown to another worker without using an attempt", async () => {
    const restore = slowNextStream(stack.simulator, 8000);
    let otherWorker: Runtime | undefined;
    try {
      const generation = await generate(stack, { studentId });
      await waitFor(async () => (await stack.runtime.pool.query("select stage from generations where id = $1", [generation.id])).rows[0].stage === "drafting",
        10_000, "the first process's worker to be drafting");
      otherWorker = await startSecondApi(stack, { worker: true });
      restore();
      await stack.runtime.worker!.stop();
      const done = await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED", "CANCELLED"], 20_000);
      expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null });
      const interrupted = done.events.find((e: { stage: string }) => e.stage === "INTERRUPTED");
      expect(interrupted).toMatchObject({ status: "QUEUED" });
      expect(interrupted.message).toMatch(/worker shut down mid-run.*does not use up an attempt/);
      expect(done.iep).not.toBeNull();
    } finally {
      restore();
      await otherWorker?.close();
    }
  });
});
