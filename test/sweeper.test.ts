import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as lifecycle from "../src/lifecycle/generation.ts";
import { startRecovery } from "../src/recovery/sweeper.ts";
import { generate } from "./helpers/generation.ts";
import { createStudentViaApi, startTestStack, testLogger, waitFor, type TestStack } from "./helpers/stack.ts";

describe("the dead-worker sweep", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("judges no one until its own heartbeat has been healthy for the dead-after time (after an outage everyone's beats are late)", async () => {
    const { pool } = stack.runtime;
    const studentId = await createStudentViaApi(stack); // no worker runs here: the generation stays as the test puts it
    const generation = await generate(stack, { studentId });
    const staleRunner = randomUUID();
    await pool.query(
      `insert into worker_heartbeats (id, role, host, pid, last_seen_at) values ($1, 'worker', 'elsewhere', 1, now() - interval '2 minutes')`,
      [staleRunner]);
    expect(await lifecycle.start({ db: pool, log: testLogger() }, generation.id, staleRunner)).toMatchObject({ status: "RUNNING" });

    let judged = 0;
    let allowed = false;
    const recovery = startRecovery(pool, testLogger(), {
      deadAfterMs: 60_000, sweepEveryMs: 50, reconcileEveryMs: 60_000,
      mayJudge: () => {
        judged += 1;
        return allowed;
      },
    });
    try {
      await waitFor(async () => judged >= 5, 10_000, "five sweep ticks");
      const untouched = await pool.query("select status, runner_id from generations where id = $1", [generation.id]);
      expect(untouched.rows[0]).toEqual({ status: "RUNNING", runner_id: staleRunner });
      expect((await pool.query("select 1 from worker_heartbeats where id = $1", [staleRunner])).rowCount).toBe(1);

      // Its runner is claimed dead now: the generation is recovered in the same sweep, though it
      // changed a moment ago (the grace period only protects runs of processes still beating).
      allowed = true;
      const recovered = await waitFor(async () => {
        const { rows } = await pool.query("select status, stage, attempts, runner_id from generations where id = $1", [generation.id]);
        return rows[0].status === "QUEUED" && rows[0];
      }, 10_000, "the generation to be recovered");
      expect(recovered).toEqual({ status: "QUEUED", stage: "recovered", attempts: 1, runner_id: null });
      expect((await pool.query("select 1 from worker_heartbeats where id = $1", [staleRunner])).rowCount).toBe(0);
      const { rows: jobs } = await pool.query("select attempts, locked_by from graphile_worker.jobs where key = $1", [`generate_iep:${generation.id}`]);
      expect(jobs).toEqual([{ attempts: 0, locked_by: null }]);
    } finally {
      await recovery.stop();
    }
  });
});
