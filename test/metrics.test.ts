import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENERATION_EVENTS, generate, sseClient, studentWithEvidence, waitForStatus, watchGenerationEvents, wsClient } from "./helpers/generation.ts";
import { startTestStack, waitFor, type TestStack } from "./helpers/stack.ts";
import { startWorkerProcess } from "./helpers/worker-process.ts";
import { freePort } from "./helpers/process.ts";

/** The value of one sample (`name{labels} value`), labels given as an exact subset; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return response.text();
}

describe("/metrics after one generation", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
    const studentId = await studentWithEvidence(stack);
    const generation = await generate(stack, { studentId });
    await waitForStatus(stack, generation.id, ["SUCCEEDED"]);
  });
  afterAll(() => stack?.close());

  it("reports GraphQL operations by name, HTTP requests, generations, jobs, Gemini calls and tokens, breaker, pool and event loop", async () => {
    const text = await scrape(stack.httpUrl);
    expect(sample(text, "iepgen_graphql_operation_duration_seconds_count",
      { operation_name: "GenerateIep", operation_type: "mutation", outcome: "ok" })).toBe(1);
    expect(sample(text, "iepgen_graphql_operation_duration_seconds_count", { operation_name: "Generation", operation_type: "query" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "iepgen_http_request_duration_seconds_count", { method: "POST", route: "/graphql", status: "200" })).toBeGreaterThanOrEqual(3);
    expect(sample(text, "iepgen_generations", { status: "SUCCEEDED" })).toBe(1);
    expect(sample(text, "iepgen_generations", { status: "FAILED" })).toBe(0);
    expect(sample(text, "iepgen_queue_oldest_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "iepgen_gemini_call_duration_seconds_count", { operation: "draft", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "iepgen_gemini_call_duration_seconds_count", { operation: "embed", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "iepgen_gemini_tokens_total", { operation: "draft", direction: "output" })).toBeGreaterThan(0);
    expect(sample(text, "iepgen_gemini_breaker_state", { breaker: "gemini" })).toBe(0);
    expect(sample(text, "iepgen_job_duration_seconds_count", { outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "iepgen_job_queue_wait_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "iepgen_db_pool_connections", { pool: "api", state: "total" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "iepgen_process_nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
  });

  it("counts the SQL statements each pool sent, graphile-worker's own on its queue pool", async () => {
    const text = await scrape(stack.httpUrl);
    const worker = sample(text, "iepgen_db_statements_total", { pool: "worker" })!;
    // One draft: its start, steps and save at least; graphile-worker got and completed its job.
    expect(worker).toBeGreaterThanOrEqual(4);
    expect(sample(text, "iepgen_db_statements_total", { pool: "queue" })).toBeGreaterThanOrEqual(2);
    expect(sample(text, "iepgen_db_statements_total", { pool: "api" })).toBeGreaterThanOrEqual(1);
    await stack.runtime.pool.query("select 1");
    expect(sample(await scrape(stack.httpUrl), "iepgen_db_statements_total", { pool: "api" }))
      .toBeGreaterThan(sample(text, "iepgen_db_statements_total", { pool: "api" })!);
  });

  it("labels a GraphQL call with the operation name the client gave it", async () => {
    await stack.gql("query MetricsProbe { __typename }");
    const text = await scrape(stack.httpUrl);
    expect(sample(text, "iepgen_graphql_operation_duration_seconds_count", { operation_name: "MetricsProbe" })).toBe(1);
  });
});

describe("/metrics: active subscriptions and queue depth", () => {
  let stack: TestStack;
  let generationId: string;

  beforeAll(async () => {
    stack = await startTestStack();
    const studentId = await studentWithEvidence(stack);
    await stack.runtime.worker!.stop();
    generationId = (await generate(stack, { studentId })).id;
  });
  afterAll(() => stack?.close());

  it("gauges open subscription streams by transport, back to 0 when they close; counts the queued job", async () => {
    const ws = wsClient(stack);
    const sse = sseClient(stack);
    try {
      const watched = watchGenerationEvents(ws, generationId, { timeoutMs: 20_000 });
      const sseIterator = sse.iterate({ query: GENERATION_EVENTS, variables: { id: generationId, afterSeq: 0 } });
      await watched.first;
      await sseIterator.next();
      const open = await scrape(stack.httpUrl);
      expect(sample(open, "iepgen_graphql_active_subscriptions", { transport: "graphql-ws" })).toBe(1);
      expect(sample(open, "iepgen_graphql_active_subscriptions", { transport: "sse" })).toBe(1);
      expect(sample(open, "iepgen_generations", { status: "QUEUED" })).toBe(1);
      expect([...open.matchAll(/^iepgen_queue_depth\{task="[^"]+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThanOrEqual(1);
      await sseIterator.return?.();
      ws.dispose();
      await waitFor(async () => {
        const text = await scrape(stack.httpUrl);
        return sample(text, "iepgen_graphql_active_subscriptions", { transport: "graphql-ws" }) === 0
          && sample(text, "iepgen_graphql_active_subscriptions", { transport: "sse" }) === 0;
      }, 10_000, "both subscriptions to be counted closed");
    } finally {
      await ws.dispose();
      sse.dispose();
    }
  });

  it("a worker-only process serves /metrics on WORKER_HEALTH_PORT", async () => {
    const port = await freePort();
    const worker = await startWorkerProcess(stack.db.url, stack.simulator.url, { WORKER_HEALTH_PORT: String(port), HOST: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(() => fetch(`${base}/healthz`).then((r) => r.ok, () => false), 15_000, "the worker's probe to listen");
      await waitForStatus(stack, generationId, ["SUCCEEDED"], 30_000);
      const text = await waitFor(async () => {
        const body = await scrape(base);
        return (sample(body, "iepgen_job_duration_seconds_count", { outcome: "ok" }) ?? 0) >= 1 ? body : undefined;
      }, 10_000, "the worker to report its job");
      expect(sample(text, "iepgen_gemini_call_duration_seconds_count", { operation: "draft", outcome: "ok" })).toBeGreaterThanOrEqual(1);
      expect(sample(text, "iepgen_gemini_breaker_state", { breaker: "gemini" })).toBe(0);
      expect(sample(text, "iepgen_process_nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
    } finally {
      expect(await worker.stop()).toMatchObject({ code: 0 });
    }
  });
});

