import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../src/env.ts";
import { resolveGemini, SIMULATOR_API_KEY } from "../src/gemini/config.ts";
import { GeminiQuotaExhaustedError, type GeminiQuotaConfig } from "../src/gemini/quota.ts";
import { GeminiUnavailableError } from "../src/gemini/resilience.ts";
import type { RecordedRequest } from "../src/gemini/simulator/server.ts";
import { classifyFailure } from "../src/jobs/failure.ts";
import { nextRunAt } from "../src/jobs/retry-policy.ts";
import { renderMetrics } from "../src/monitoring/metrics.ts";
import { startRuntime, type Runtime } from "../src/runtime.ts";
import { GENERATION, generate, studentWithEvidence, waitForStatus } from "./helpers/generation.ts";
import { startWorkerProcess, type WorkerProcess } from "./helpers/worker-process.ts";
import {
  OUTAGE_RETRY_DELAY_MS,
  startSecondApi,
  startTestStack,
  TEST_JWT_SECRET,
  TEST_RECOVERY_TIMINGS,
  TEST_RETRY_TIMINGS,
  testLogger,
  waitFor,
  type TestStack,
} from "./helpers/stack.ts";

const RPM = 5;
const WINDOW_MS = 2000;

/**
 * A worker-only iepgen runtime on the stack's database and simulator, under a shared Gemini quota;
 * `model` tells its drafts apart in the simulator's log.
 */
function quotaWorker(stack: TestStack, quota: GeminiQuotaConfig, model = "gemini-2.5-flash", api = false): Promise<Runtime> {
  return startRuntime({
    databaseUrl: stack.db.url, poolMax: 4, jwtSecret: TEST_JWT_SECRET, evidenceMaxChars: 200_000, production: false,
    logger: testLogger(),
    gemini: {
      apiKey: SIMULATOR_API_KEY, baseUrl: stack.simulator.url, model, embeddingModel: "gemini-embedding-001",
      timeoutMs: 10_000, simulated: true, quota,
      resilience: { maxRetries: 2, baseDelayMs: 20, maxDelayMs: 200, breaker: { resetTimeoutMs: OUTAGE_RETRY_DELAY_MS } },
    },
    retry: TEST_RETRY_TIMINGS,
    recovery: TEST_RECOVERY_TIMINGS,
    worker: { concurrency: 2, pollIntervalMs: 200, shutdownAbortAfterMs: 500 },
    ...(api ? { api: { host: "127.0.0.1", port: 0 } } : {}),
  });
}

/** The most requests the simulator received in any sliding window of `windowMs` (rejected ones included). */
function busiestWindow(requests: readonly RecordedRequest[], windowMs: number): number {
  const times = requests.map((request) => request.at.getTime()).sort((a, b) => a - b);
  let most = 0;
  for (const [i, start] of times.entries()) {
    most = Math.max(most, times.slice(i).filter((at) => at - start < windowMs).length);
  }
  return most;
}

async function acquire(client: pg.Client, rpm: number | null, tpm: number | null, tokens: number, maxWaitMs: number) {
  const { rows } = await client.query("select granted, wait_ms from iepgen_gemini_acquire($1, $2, $3, 60000, $4)", [rpm, tpm, tokens, maxWaitMs]);
  return rows[0] as { granted: boolean; wait_ms: number };
}

describe("Gemini rate limit shared through Postgres", () => {
  let stack: TestStack;
  let studentId: string;
  const workers: Runtime[] = [];

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    const ingester = await startSecondApi(stack, { worker: true });
    studentId = await studentWithEvidence(stack);
    await ingester.close();
  }, 60_000);
  afterAll(async () => {
    for (const worker of workers) await worker.close();
    await stack?.close();
  });

  it("iepgen_gemini_acquire reserves slots by requests and tokens, for the owner and for iepgen_app", async () => {
    const client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
    try {
      expect(await acquire(client, 2, null, 10, 0)).toEqual({ granted: true, wait_ms: 0 });
      await client.query("begin");
      await client.query("set local role iepgen_app");
      expect(await acquire(client, 2, null, 10, 0)).toEqual({ granted: true, wait_ms: 0 });
      const third = await acquire(client, 2, null, 10, 0);
      await client.query("commit");
      expect(third.granted).toBe(false);
      expect(third.wait_ms).toBeGreaterThan(50_000);
      expect((await client.query("select count(*)::int as n from gemini_quota_grants")).rows[0].n).toBe(2);
      const reserved = await acquire(client, 2, null, 10, 120_000);
      expect(reserved.granted).toBe(true);
      expect(reserved.wait_ms).toBeGreaterThan(50_000);

      await client.query("delete from gemini_quota_grants");
      expect(await acquire(client, null, 100, 60, 0)).toEqual({ granted: true, wait_ms: 0 });
      expect((await acquire(client, null, 100, 60, 0)).granted).toBe(false);
      expect(await acquire(client, null, 100, 40, 0)).toEqual({ granted: true, wait_ms: 0 });
      await client.query("delete from gemini_quota_grants");
      expect(await acquire(client, null, 100, 500, 0)).toEqual({ granted: true, wait_ms: 0 });
    } finally {
      await client.query("delete from gemini_quota_grants");
      await client.end();
    }
  });

  it("GEMINI_RPM, GEMINI_TPM and GEMINI_QUOTA_WAIT_MS reach the gateway's quota; unset, there is none", async () => {
    const logger = testLogger();
    const limited = await resolveGemini(parseEnv({ GEMINI_BASE_URL: stack.simulator.url, GEMINI_RPM: "120", GEMINI_QUOTA_WAIT_MS: "5000" }), logger);
    expect(limited.config.quota).toEqual({ rpm: 120, tpm: undefined, waitMs: 5000 });
    const byTokens = await resolveGemini(parseEnv({ GEMINI_BASE_URL: stack.simulator.url, GEMINI_TPM: "1000000" }), logger);
    expect(byTokens.config.quota).toEqual({ rpm: undefined, tpm: 1_000_000, waitMs: 60_000 });
    expect((await resolveGemini(parseEnv({ GEMINI_BASE_URL: stack.simulator.url }), logger)).config.quota).toBeUndefined();
  });

  it("a quota timeout is an outage to wait out: requeued after the slot's delay, without using an attempt", () => {
    const error = new GeminiUnavailableError("no slot", { cause: new GeminiQuotaExhaustedError("spent"), retryAfterMs: 45_000 });
    const failure = classifyFailure(error);
    expect(failure).toMatchObject({ kind: "unavailable", dependency: "gemini", retryAfterMs: 45_000 });
    const now = new Date();
    const runAt = nextRunAt(failure, { attempts: 3, maxAttempts: 3, requestedAt: now }, TEST_RETRY_TIMINGS, now);
    expect(runAt?.getTime()).toBe(now.getTime() + 45_000);
  });

  it("two worker runtimes drafting at once stay within the simulator's quota: no 429, ≤ rpm per sliding window", async () => {
    stack.simulator.setQuota({ rpm: RPM, windowMs: WINDOW_MS });
    // The slack covers the time from a grant to the request reaching the simulator on a loaded test machine.
    const quota = { rpm: RPM, waitMs: 60_000, windowMs: WINDOW_MS, slackMs: 1000 };
    workers.push(await quotaWorker(stack, quota, "gemini-2.5-flash", true), await quotaWorker(stack, quota, "gemini-2.5-pro"));
    const before = stack.simulator.requests.length;

    const queued = [];
    for (let i = 0; i < 6; i++) queued.push(await generate(stack, { studentId }));
    for (const { id } of queued) expect((await waitForStatus(stack, id, ["SUCCEEDED", "FAILED"], 60_000)).status).toBe("SUCCEEDED");

    const requests = stack.simulator.requests.slice(before);
    expect(requests.length).toBeGreaterThanOrEqual(6 * 2);
    const timeline = requests.map((request) => `${request.at.getTime() - requests[0]!.at.getTime()} ${request.operation}${request.rateLimited ? " 429" : ""}`);
    expect(requests.filter((request) => request.rateLimited), timeline.join("\n")).toEqual([]);
    expect(stack.simulator.quota()?.rejected).toBe(0);
    expect(busiestWindow(requests, WINDOW_MS)).toBeLessThanOrEqual(RPM);
    const draftedBy = new Set(requests.filter((request) => request.operation === "stream").map((request) => request.model));
    expect([...draftedBy].sort()).toEqual(["gemini-2.5-flash", "gemini-2.5-pro"]);

    const metrics = await renderMetrics();
    const waited = /iepgen_gemini_quota_wait_seconds_sum\{operation="(?:embed|draft)"\} ([\d.e+-]+)/g;
    expect([...metrics.matchAll(waited)].reduce((sum, match) => sum + Number(match[1]), 0)).toBeGreaterThan(0);
    await workers[0]!.gemini.stats!.flush();
    await workers[1]!.gemini.stats!.flush();
    const admin = await stack.createTenant("ADMIN");
    const response = await fetch(`${workers[0]!.server!.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ query: "query QuotaStats { queueStats { gemini { byKind { operation kind count } rateLimit { requestsPerMinute tokensPerMinute waitBudgetMs } } } }" }),
    });
    const { gemini } = (await response.json()).data.queueStats;
    expect(gemini.rateLimit).toEqual({ requestsPerMinute: RPM, tokensPerMinute: null, waitBudgetMs: 60_000 });
    const quotaWaits = gemini.byKind.filter((c: { kind: string }) => c.kind === "QUOTA_WAIT").reduce((n: number, c: { count: number }) => n + c.count, 0);
    expect(quotaWaits).toBeGreaterThan(0);
    expect(gemini.byKind.filter((c: { kind: string }) => c.kind !== "OK" && c.kind !== "QUOTA_WAIT")).toEqual([]);
  }, 120_000);

  it("a draft that gets no slot within GEMINI_QUOTA_WAIT_MS is requeued without using an attempt", async () => {
    for (const worker of workers.splice(0)) await worker.close();
    stack.simulator.setQuota(undefined);
    await stack.runtime.pool.query("delete from gemini_quota_grants");
    await stack.runtime.pool.query("insert into gemini_quota_grants (at, tokens) values (now(), 0)");
    const worker = await quotaWorker(stack, { rpm: 1, waitMs: 300 });
    workers.push(worker);
    const before = stack.simulator.requests.length;

    const { id } = await generate(stack, { studentId });
    const waiting = await waitFor(async () => {
      const generation = (await stack.gql(GENERATION, { id })).data?.generation;
      return generation?.stage === "WAITING_FOR_GEMINI" ? generation : undefined;
    }, 20_000, "the draft to be requeued waiting for Gemini");
    expect(waiting).toMatchObject({ status: "QUEUED", attempts: 0 });
    expect(waiting.message).toMatch(/Gemini is unavailable; trying again at .*does not use up an attempt/);
    const job = await stack.runtime.pool.query(
      "select run_at, attempts from graphile_worker.jobs where key = $1", [`generate_iep:${id}`]);
    expect(job.rows).toHaveLength(1);
    expect(job.rows[0].attempts).toBe(0);
    expect(job.rows[0].run_at.getTime() - Date.now()).toBeGreaterThan(30_000);
    expect(stack.simulator.requests.length).toBe(before);

    await worker.gemini.stats!.flush();
    const exhausted = await stack.runtime.pool.query(
      "select coalesce(sum(calls), 0)::int as n from gemini_call_stats where operation = 'embed' and kind = 'quota_exhausted'");
    expect(exhausted.rows[0].n).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("two worker processes (GEMINI_RPM=3) send 3 requests between them in a minute; the rest wait, requeued without using attempts", async () => {
    for (const worker of workers.splice(0)) await worker.close();
    await stack.runtime.pool.query("delete from gemini_quota_grants");
    stack.simulator.setQuota({ rpm: 3 });
    const before = stack.simulator.requests.length;
    const processes: WorkerProcess[] = [];
    try {
      const env = { GEMINI_RPM: "3", GEMINI_QUOTA_WAIT_MS: "1000" };
      for (let i = 0; i < 2; i++) processes.push(await startWorkerProcess(stack.db.url, stack.simulator.url, env));
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await generate(stack, { studentId })).id);
      const settled = await waitFor(async () => {
        const generations = await Promise.all(ids.map(async (id) => (await stack.gql(GENERATION, { id })).data?.generation));
        const done = generations.every((g) => g?.status === "SUCCEEDED" || (g?.status === "QUEUED" && g.stage === "WAITING_FOR_GEMINI"));
        return done ? generations : undefined;
      }, 30_000, "every draft to succeed or wait for a Gemini slot");
      expect(settled.filter((g) => g.status === "QUEUED").length).toBeGreaterThanOrEqual(1);
      for (const waiting of settled.filter((g) => g.status === "QUEUED")) expect(waiting.attempts).toBe(0);
      const requests = stack.simulator.requests.slice(before);
      expect(requests).toHaveLength(3);
      expect(requests.filter((request) => request.rateLimited)).toEqual([]);
      expect((await stack.runtime.pool.query("select count(*)::int as n from gemini_quota_grants")).rows[0].n).toBe(3);
    } finally {
      for (const child of processes) await child.stop();
    }
  }, 150_000);
});
