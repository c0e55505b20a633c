import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import { insertUser } from "../src/db/schools.ts";
import type { Runtime } from "../src/runtime.ts";
import { buildCronItems } from "../src/worker.ts";
import { GENERATION_EVENTS, generate, sseClient, studentWithEvidence } from "./helpers/generation.ts";
import { startSecondApi, startTestStack, TEST_JWT_SECRET, waitFor, type Tenant, type TestStack } from "./helpers/stack.ts";

const QUEUE_STATS = /* GraphQL */ `
  query {
    queueStats {
      generationsByStatus { queued running succeeded failed cancelled }
      oldestQueuedSeconds finishedLastHour retriesLastHour
      durationSeconds { p50 p95 } queueWaitSeconds { p50 p95 }
      breaker workers { id role pid concurrency running lastSeenAt }
    }
  }
`;
const CLEANUP = /* GraphQL */ `mutation Cleanup($days: Int!) { cleanupGenerations(olderThanDays: $days) }`;
const SUMMARY = /* GraphQL */ `
  query Summary($id: ID!) { generation(id: $id) { id status attempts instructions finishedAt archivedAt events { seq } iep { id } } }
`;

describe("operations: queue statistics and cleanup", () => {
  let stack: TestStack;
  let admin: Tenant;
  let other: Tenant;
  let caseManager: Tenant;
  const ids = { oldSucceeded: "", recentSucceeded: "", queued: "", oldCancelled: "", otherOld: "" };
  let iepId = "";

  const backdate = (generationIds: string[], days: number) => stack.runtime.pool.query(
    "update generations set finished_at = now() - make_interval(days => $2), created_at = now() - make_interval(days => $2 + 1) where id = any($1::uuid[])",
    [generationIds, days]);
  const eventCount = async (id: string) =>
    (await stack.runtime.pool.query("select count(*)::int as n from generation_events where generation_id = $1", [id])).rows[0].n as number;
  const archivedAt = async (id: string) =>
    (await stack.runtime.pool.query("select archived_at from generations where id = $1", [id])).rows[0].archived_at as Date | null;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    admin = await stack.createTenant("ADMIN");
    other = await stack.createTenant("ADMIN");
    const user = await insertUser(stack.runtime.pool, { schoolId: admin.schoolId, email: `cm-ops-${admin.schoolId}@example.org`, name: "CM", role: "CASE_MANAGER" });
    caseManager = { schoolId: admin.schoolId, userId: user.id, token: await signToken({ userId: user.id, schoolId: admin.schoolId, role: "CASE_MANAGER" }, TEST_JWT_SECRET) };

    // Evidence is ingested by a worker; generations are then requested with none running, so an async one stays QUEUED.
    const ingester = await startSecondApi(stack, { worker: true });
    const studentId = await studentWithEvidence(stack, { token: admin.token });
    const otherStudent = await studentWithEvidence(stack, { token: other.token });
    await ingester.close();
    const first = await generate(stack, { studentId, instructions: "Focus on reading fluency" }, { async: false, token: admin.token });
    const second = await generate(stack, { studentId }, { async: false, token: admin.token });
    expect([first.status, second.status]).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    ids.oldSucceeded = first.id;
    iepId = first.iep!.id;
    ids.recentSucceeded = second.id;
    ids.queued = (await generate(stack, { studentId }, { token: admin.token })).id;
    ids.oldCancelled = (await generate(stack, { studentId }, { token: admin.token })).id;
    const cancelled = await stack.gql(`mutation { cancelGeneration(id: "${ids.oldCancelled}") { __typename } }`, {}, admin.token);
    expect(cancelled.data.cancelGeneration.__typename).toBe("CancelGenerationSuccess");

    ids.otherOld = (await generate(stack, { studentId: otherStudent }, { async: false, token: other.token })).id;
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("queueStats gives an ADMIN their school's figures, this process's breaker and the live workers", async () => {
    const result = await stack.gql(QUEUE_STATS, {}, admin.token);
    expect(result.errors).toBeUndefined();
    const stats = result.data.queueStats;
    expect(stats.generationsByStatus).toEqual({ queued: 1, running: 0, succeeded: 2, failed: 0, cancelled: 1 });
    expect(stats.finishedLastHour).toBe(3);
    expect(stats.retriesLastHour).toBe(0);
    expect(stats.oldestQueuedSeconds).toBeGreaterThanOrEqual(0);
    expect(stats.durationSeconds.p50).toBeGreaterThan(0);
    expect(stats.durationSeconds.p95).toBeGreaterThanOrEqual(stats.durationSeconds.p50);
    expect(stats.queueWaitSeconds.p50).toBeGreaterThanOrEqual(0);
    expect(stats.breaker).toBe("CLOSED");
    expect(stats.workers.map((w: { id: string }) => w.id)).toContain(stack.runtime.runnerId);
    const me = stats.workers.find((w: { id: string }) => w.id === stack.runtime.runnerId);
    expect(me).toMatchObject({ role: "api", pid: process.pid });
    expect(Date.now() - Date.parse(me.lastSeenAt)).toBeLessThan(60_000);

    const otherStats = (await stack.gql(QUEUE_STATS, {}, other.token)).data.queueStats;
    expect(otherStats.generationsByStatus).toEqual({ queued: 0, running: 0, succeeded: 1, failed: 0, cancelled: 0 });
  });

  it("refuses queueStats and cleanupGenerations to a CASE_MANAGER (FORBIDDEN)", async () => {
    for (const query of [QUEUE_STATS, CLEANUP]) {
      const result = await stack.gql(query, { days: 30 }, caseManager.token);
      expect(result.data?.queueStats ?? result.data?.cleanupGenerations ?? null).toBeNull();
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    }
  });

  it("cleanupGenerations archives only the caller's school's old finished generations, keeping IEPs and summaries", async () => {
    expect((await stack.gql(CLEANUP, { days: 0 }, admin.token)).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    await backdate([ids.oldSucceeded, ids.oldCancelled, ids.queued, ids.otherOld], 40);
    expect(await eventCount(ids.oldSucceeded)).toBeGreaterThan(0);

    const result = await stack.gql(CLEANUP, { days: 30 }, admin.token);
    expect(result.errors).toBeUndefined();
    expect(result.data.cleanupGenerations).toBe(2);

    const archived = (await stack.gql(SUMMARY, { id: ids.oldSucceeded }, admin.token)).data.generation;
    expect(archived).toMatchObject({ status: "SUCCEEDED", attempts: 1, instructions: null, events: [], iep: { id: iepId } });
    expect(archived.archivedAt).not.toBeNull();
    expect(archived.finishedAt).not.toBeNull();
    expect(await eventCount(ids.oldSucceeded)).toBe(0);
    expect(await eventCount(ids.oldCancelled)).toBe(0);
    expect(await archivedAt(ids.oldCancelled)).not.toBeNull();
    const iep = await stack.gql(`{ iep(id: "${iepId}") { id } }`, {}, admin.token);
    expect(iep.data.iep).toEqual({ id: iepId });

    for (const id of [ids.recentSucceeded, ids.queued, ids.otherOld]) expect(await archivedAt(id), id).toBeNull();
    const recent = (await stack.gql(SUMMARY, { id: ids.recentSucceeded }, admin.token)).data.generation;
    expect(recent.archivedAt).toBeNull();
    expect(recent.events.length).toBeGreaterThan(0);
    expect((await stack.gql(SUMMARY, { id: ids.queued }, admin.token)).data.generation).toMatchObject({ status: "QUEUED", archivedAt: null });
    expect(await eventCount(ids.otherOld)).toBeGreaterThan(0);

    expect((await stack.gql(CLEANUP, { days: 30 }, admin.token)).data.cleanupGenerations).toBe(0);
  });

  it("a generationEvents subscription on an archived generation completes at once, with no events", async () => {
    await waitFor(async () => (await archivedAt(ids.oldSucceeded)) !== null, 10_000, "the generation to be archived");
    const client = sseClient(stack, admin.token);
    const iterator = client.iterate({ query: GENERATION_EVENTS, variables: { id: ids.oldSucceeded } });
    try {
      const hung = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 10_000).unref());
      const first = await Promise.race([iterator.next(), hung]);
      expect(first).toEqual({ done: true, value: undefined });
    } finally {
      await iterator.return?.();
      client.dispose();
    }
  });

  it("the cleanup_generations task (the daily cron item's task) archives across schools", async () => {
    let worker: Runtime | undefined;
    try {
      worker = await startSecondApi(stack, { worker: true });
      await stack.runtime.pool.query("select graphile_worker.add_job('cleanup_generations', json_build_object('olderThanDays', 30))");
      await waitFor(async () => (await archivedAt(ids.otherOld)) !== null, 20_000, "the other school's old generation to be archived");
      expect(await eventCount(ids.otherOld)).toBe(0);
      expect(await archivedAt(ids.recentSucceeded)).toBeNull();
      // The daily crontab item runs this task with GENERATION_RETENTION_DAYS.
      expect(buildCronItems({ retentionDays: 7 })).toEqual([expect.objectContaining({
        identifier: "cleanup_generations_daily", task: "cleanup_generations", payload: { olderThanDays: 7 },
      })]);
    } finally {
      await worker?.close();
    }
  }, 40_000);
});

describe("operations: Gemini calls and errors in queueStats", () => {
  const GEMINI_STATS = /* GraphQL */ `
    query QueueStatsGemini {
      queueStats { gemini {
        calls errors byKind { operation kind count }
        rateLimit { requestsPerMinute tokensPerMinute waitBudgetMs grantedLastMinute tokensLastMinute reservedAhead }
      } }
    }
  `;
  let stack: TestStack;
  let admin: Tenant;

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    admin = await stack.createTenant("ADMIN");
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const geminiStats = async () => {
    const result = await stack.gql(GEMINI_STATS, {}, admin.token);
    expect(result.errors).toBeUndefined();
    return result.data.queueStats.gemini as {
      calls: number; errors: number; byKind: { operation: string; kind: string; count: number }[]; rateLimit: Record<string, number | null>;
    };
  };
  const count = (stats: Awaited<ReturnType<typeof geminiStats>>, operation: string, kind: string) =>
    stats.byKind.find((c) => c.operation === operation && c.kind === kind)?.count ?? 0;

  it("counts every process's calls by operation and kind: ok, retried failures, and the errors calls ended with", async () => {
    const before = await geminiStats();
    const { gemini } = stack.runtime;
    await gemini.embed(["reading fluency"], "RETRIEVAL_QUERY");
    stack.simulator.injectFault({ kind: "server_error" }, { operation: "embed" });
    await gemini.embed(["math goals"], "RETRIEVAL_QUERY");
    stack.simulator.injectFault({ kind: "bad_request" }, { operation: "embed" });
    await expect(gemini.embed(["rejected"], "RETRIEVAL_QUERY")).rejects.toThrow(/Gemini embed failed/);
    stack.simulator.injectFault({ kind: "malformed" }, { operation: "stream", times: 3 });
    await expect(gemini.streamJson({
      systemInstruction: "Draft.", prompt: "A reading goal.", responseJsonSchema: { type: "object" }, onDelta: () => {},
    })).rejects.toThrow(/Gemini draft failed after 3 attempts/);
    // Another process's counts arrive when it closes (its last flush).
    const second = await startSecondApi(stack);
    await second.gemini.embed(["behaviour"], "RETRIEVAL_QUERY");
    await second.close();
    await gemini.stats!.flush();

    const after = await geminiStats();
    expect(after.calls - before.calls).toBe(5);
    expect(after.errors - before.errors).toBe(2);
    const delta = (operation: string, kind: string) => count(after, operation, kind) - count(before, operation, kind);
    expect({
      embedOk: delta("EMBED", "OK"), embedTransient: delta("EMBED", "TRANSIENT"), embedRequest: delta("EMBED", "REQUEST"),
      draftTransient: delta("DRAFT", "TRANSIENT"), draftFailed: delta("DRAFT", "FAILED"), draftOk: delta("DRAFT", "OK"),
    }).toEqual({ embedOk: 3, embedTransient: 1, embedRequest: 1, draftTransient: 2, draftFailed: 1, draftOk: 0 });
    expect(after.rateLimit).toEqual({
      requestsPerMinute: null, tokensPerMinute: null, waitBudgetMs: null, grantedLastMinute: 0, tokensLastMinute: 0, reservedAhead: 0,
    });
  }, 60_000);
});
