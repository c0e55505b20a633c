import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, waitFor, type TestStack } from "./helpers/stack.ts";

describe("database pools", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ security: { apiStatementTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("cuts off a runaway API statement at API_STATEMENT_TIMEOUT_MS", async () => {
    const started = performance.now();
    await expect(stack.runtime.pool.query("select pg_sleep(5)")).rejects.toThrow(/statement timeout/);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it("gives the API and the worker pools of their own, so requests cannot starve the worker", async () => {
    await waitFor(async () => {
      const { rows } = await stack.runtime.pool.query(
        "select distinct application_name from pg_stat_activity where datname = current_database() and application_name like 'iepgen-%'");
      const names = rows.map((row) => row.application_name);
      return names.includes("iepgen-api") && names.includes("iepgen-worker");
    }, 10_000, "connections of both pools");
    // Every API connection busy with a slow statement: the worker's pool still serves at once.
    let apiDone = false;
    const busy = Promise.all(Array.from({ length: 10 }, () => stack.runtime.pool.query("select pg_sleep(2)").catch(() => undefined)))
      .then(() => (apiDone = true));
    const job = await stack.runtime.worker!.runner()!.addJob("pool_probe", {}, { runAt: new Date(Date.now() + 3_600_000), jobKey: "pool-probe" });
    expect(apiDone).toBe(false);
    expect(job.key).toBe("pool-probe");
    await busy;
    await stack.runtime.pool.query("select graphile_worker.remove_job('pool-probe')");
  });
});
