import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, studentWithEvidence, waitForStatus } from "./helpers/generation.ts";
import { startTestStack, waitFor, type TestStack } from "./helpers/stack.ts";

describe("the graphile-worker supervisor", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("restarts graphile-worker when its runner stops on its own (as it does when it cannot record a job), and work goes on", async () => {
    const worker = stack.runtime.worker!;
    const studentId = await studentWithEvidence(stack);
    const first = worker.runner()!;
    const idsBefore = worker.workerIds();
    // graphile-worker stops its pool this way after a fatal error (e.g. the database went away
    // while completing a job); nothing in iepgen asked for it.
    await first.stop();

    await waitFor(async () => worker.restarts() === 1 && worker.runner() !== undefined && worker.runner() !== first, 15_000, "the runner to be restarted");
    expect(worker.isRunning()).toBe(true);
    expect(worker.workerIds()).not.toEqual(idsBefore);
    const health = await (await fetch(`${stack.httpUrl}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, worker: "running", workerRestarts: 1 });
    // The heartbeat now reports the new runner's ids, so a later sweep could release its locks.
    await waitFor(async () => {
      const { rows } = await stack.runtime.pool.query("select worker_ids from worker_heartbeats where id = $1", [stack.runtime.runnerId]);
      return rows[0]?.worker_ids.some((id: string) => !idsBefore.includes(id));
    }, 5000, "the heartbeat to report the new runner");

    const generation = await generate(stack, { studentId });
    expect(await waitForStatus(stack, generation.id, ["SUCCEEDED", "FAILED"])).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
  });
});
