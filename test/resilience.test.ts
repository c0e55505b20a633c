import { ApiError } from "@google/genai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queue as queueEvidence } from "../src/lifecycle/evidence.ts";
import { createGemini, EMBEDDING_DIMENSIONS, type Gemini } from "../src/gemini/client.ts";
import { SIMULATOR_API_KEY } from "../src/gemini/config.ts";
import {
  GeminiCallFailedError,
  GeminiRequestError,
  GeminiUnavailableError,
  isTransient,
  retryAfterMs,
  type ResilienceOptions,
} from "../src/gemini/resilience.ts";
import { startGeminiSimulator, type GeminiSimulator } from "../src/gemini/simulator/server.ts";
import { chunkText } from "../src/services/chunking.ts";
import { ingestEvidence, type IngestionDeps } from "../src/services/ingestion.ts";
import {
  ADD_EVIDENCE,
  addReadyEvidence,
  createStudentViaApi,
  EVIDENCE_STATUS,
  OUTAGE_RETRY_DELAY_MS,
  startTestStack,
  testLogger,
  waitFor,
  type TestStack,
} from "./helpers/stack.ts";

const EMBEDDING_MODEL = "gemini-embedding-001";

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error("expected the call to fail");
}

function expectUnitVectors(vectors: number[][], count: number): void {
  expect(vectors).toHaveLength(count);
  for (const vector of vectors) {
    expect(vector).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
  }
}

describe("Gemini gateway against the simulator", () => {
  let sim: GeminiSimulator;
  const simLog: string[] = [];
  const gateways: Gemini[] = [];

  beforeAll(async () => {
    sim = await startGeminiSimulator({ log: (line) => simLog.push(line) });
  });

  afterEach(() => {
    sim.clearFaults();
    sim.setLatencyMs(0);
    sim.requests.length = 0;
    simLog.length = 0;
    for (const gateway of gateways.splice(0)) gateway.caller.breaker.shutdown();
  });

  afterAll(async () => {
    await sim?.close();
  });

  function gateway(resilience: ResilienceOptions, overrides: { timeoutMs?: number; embeddingModel?: string } = {}): Gemini {
    const gemini = createGemini(
      {
        apiKey: SIMULATOR_API_KEY,
        baseUrl: sim.url,
        model: "gemini-2.5-flash",
        embeddingModel: overrides.embeddingModel ?? EMBEDDING_MODEL,
        timeoutMs: overrides.timeoutMs ?? 10_000,
        simulated: true,
        resilience,
      },
      testLogger(),
    );
    gateways.push(gemini);
    return gemini;
  }

  const embedRequests = () => sim.requests.filter((r) => r.operation === "embed");

  it("honours the server's retry delay on a 429 and then succeeds", async () => {
    const gemini = gateway({ maxRetries: 2, baseDelayMs: 10, maxDelayMs: 5_000 });
    sim.injectFault({ kind: "rate_limit", retryAfterSeconds: 1 }, { times: 1, operation: "embed" });
    const started = performance.now();
    const vectors = await gemini.embed(["Maya reads 62 wcpm.", "She skips unfamiliar words."], "RETRIEVAL_DOCUMENT");
    const elapsed = performance.now() - started;

    expectUnitVectors(vectors, 2);
    const requests = embedRequests();
    expect(requests).toHaveLength(2);
    expect(requests[1]!.body).toEqual(requests[0]!.body);
    // Exponential backoff alone would have waited 5–10 ms; the server asked for 1 s.
    expect(requests[1]!.at.getTime() - requests[0]!.at.getTime()).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5_000);
  });

  it("retries 500s with backoff and succeeds within maxRetries", async () => {
    const gemini = gateway({ maxRetries: 2, baseDelayMs: 10 });
    sim.injectFault({ kind: "server_error" }, { times: 2, operation: "embed" });
    const vectors = await gemini.embed(["one", "two", "three"], "RETRIEVAL_DOCUMENT");
    expectUnitVectors(vectors, 3);
    expect(embedRequests()).toHaveLength(3);
  });

  it("gives up with GeminiUnavailableError after maxRetries + 1 attempts on a persistent 500", async () => {
    const gemini = gateway({ maxRetries: 1, baseDelayMs: 10 });
    sim.injectFault({ kind: "server_error" }, { times: Infinity, operation: "embed" });
    const error = await caught(gemini.embed(["x"], "RETRIEVAL_DOCUMENT"));
    expect(error).toBeInstanceOf(GeminiUnavailableError);
    expect(error.message).toMatch(/after 2 attempts/);
    expect(error.cause).toBeInstanceOf(ApiError);
    expect((error.cause as ApiError).status).toBe(500);
    expect(embedRequests()).toHaveLength(2);
  });

  it("retries a malformed response body; one that stays malformed is this request's failure, not an outage", async () => {
    const gemini = gateway({ maxRetries: 2, baseDelayMs: 10 });
    sim.injectFault({ kind: "malformed" }, { times: 1, operation: "embed" });
    expectUnitVectors(await gemini.embed(["a malformed answer first"], "RETRIEVAL_DOCUMENT"), 1);
    expect(embedRequests()).toHaveLength(2);

    sim.injectFault({ kind: "malformed" }, { times: Infinity, operation: "embed" });
    const error = await caught(gemini.embed(["never well-formed"], "RETRIEVAL_DOCUMENT"));
    expect(error).toBeInstanceOf(GeminiCallFailedError);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(embedRequests()).toHaveLength(2 + 3);
    expect(gemini.caller.breaker.stats.failures).toBe(0);
  });

  it("times out a hung request and retries it; one that always times out fails as itself, without feeding the breaker", async () => {
    const gemini = gateway({ maxRetries: 1, baseDelayMs: 10 }, { timeoutMs: 300 });
    sim.injectFault({ kind: "hang" }, { times: 1, operation: "embed" });
    const started = performance.now();
    expectUnitVectors(await gemini.embed(["slow"], "RETRIEVAL_QUERY"), 1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(embedRequests()).toHaveLength(2);

    sim.injectFault({ kind: "hang" }, { times: Infinity, operation: "embed" });
    const error = await caught(gemini.embed(["always slow"], "RETRIEVAL_QUERY"));
    expect(error).toBeInstanceOf(GeminiCallFailedError);
    expect(error.message).toMatch(/timed out/);
    expect(embedRequests()).toHaveLength(2 + 2);
    expect(gemini.caller.breaker.stats.failures).toBe(0);
  });

  it("does not retry a 400 from the simulator: GeminiRequestError after one request", async () => {
    const gemini = gateway({ maxRetries: 3, baseDelayMs: 10 });
    // The gateway always asks for 768 dimensions; go through its caller to send a request the API rejects.
    const error = await caught(
      gemini.caller.call("embed", () =>
        gemini.sdk.models.embedContent({ model: EMBEDDING_MODEL, contents: ["x"], config: { outputDimensionality: 4_000 } }),
      ),
    );
    expect(error).toBeInstanceOf(GeminiRequestError);
    expect(error.cause).toBeInstanceOf(ApiError);
    expect((error.cause as ApiError).status).toBe(400);
    expect(error.message).toMatch(/outputDimensionality/);
    expect(embedRequests()).toHaveLength(1);
  });

  it("does not retry a 404 (unknown model): embed fails with GeminiRequestError after one request", async () => {
    const gemini = gateway({ maxRetries: 3, baseDelayMs: 10 }, { embeddingModel: "tunedModels/iepgen-no-such-model" });
    const error = await caught(gemini.embed(["x"], "RETRIEVAL_DOCUMENT"));
    expect(error).toBeInstanceOf(GeminiRequestError);
    expect((error.cause as ApiError).status).toBe(404);
    expect(simLog.filter((line) => line.includes("→ 404"))).toHaveLength(1);
  });

  it("classifies SDK errors: transient statuses, the server's retry delay, aborts and timeouts", () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isTransient(new ApiError({ message: "x", status }))).toBe(true);
    for (const status of [400, 401, 403, 404, 422]) expect(isTransient(new ApiError({ message: "x", status }))).toBe(false);
    expect(isTransient(new GeminiRequestError("bad"))).toBe(false);
    expect(isTransient(new TypeError("fetch failed"))).toBe(true);
    expect(isTransient(new SyntaxError("Unexpected token"))).toBe(true);
    expect(isTransient(new DOMException("This operation was aborted", "AbortError"))).toBe(false);
    expect(isTransient(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toBe(true);

    const rateLimited = new ApiError({
      status: 429,
      message: JSON.stringify({ error: { code: 429, details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2.5s" }] } }),
    });
    expect(retryAfterMs(rateLimited)).toBe(2_500);
    expect(retryAfterMs(new ApiError({ message: "no delay here", status: 503 }))).toBeUndefined();
    expect(retryAfterMs(new Error('"retryDelay": "3s"'))).toBeUndefined();
  });

  it("opens the circuit after consecutive failures, fails fast without calling Gemini, then half-opens and closes", async () => {
    const resetTimeoutMs = 500;
    const gemini = gateway({
      maxRetries: 0,
      baseDelayMs: 10,
      breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs },
    });
    const { breaker } = gemini.caller;
    sim.injectFault({ kind: "server_error" }, { times: Infinity, operation: "embed" });

    for (let i = 0; i < 2; i++) {
      const error = await caught(gemini.embed(["x"], "RETRIEVAL_DOCUMENT"));
      expect(error).toBeInstanceOf(GeminiUnavailableError);
      expect(error.message).toMatch(/after 1 attempts/);
    }
    expect(breaker.opened).toBe(true);
    const openedAt = performance.now();
    expect(embedRequests()).toHaveLength(2);

    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const error = await caught(gemini.embed(["x"], "RETRIEVAL_DOCUMENT"));
      expect(error).toBeInstanceOf(GeminiUnavailableError);
      expect(error.message).toMatch(/circuit breaker is open/);
      expect(performance.now() - started).toBeLessThan(100);
    }
    expect(embedRequests()).toHaveLength(2);

    // Half-open: one trial call goes through; a failure re-opens the circuit at once.
    await waitFor(async () => breaker.halfOpen, 5_000, "breaker half-open");
    expect(performance.now() - openedAt).toBeGreaterThanOrEqual(resetTimeoutMs - 50);
    expect(await caught(gemini.embed(["x"], "RETRIEVAL_DOCUMENT"))).toBeInstanceOf(GeminiUnavailableError);
    expect(embedRequests()).toHaveLength(3);
    expect(breaker.opened).toBe(true);
    expect((await caught(gemini.embed(["x"], "RETRIEVAL_DOCUMENT"))).message).toMatch(/circuit breaker is open/);
    expect(embedRequests()).toHaveLength(3);

    // Gemini recovers: the next trial call succeeds and closes the circuit.
    sim.clearFaults();
    await waitFor(async () => breaker.halfOpen, 5_000, "breaker half-open again");
    expectUnitVectors(await gemini.embed(["back"], "RETRIEVAL_DOCUMENT"), 1);
    expect(breaker.closed).toBe(true);
    expect(embedRequests()).toHaveLength(4);
    expectUnitVectors(await gemini.embed(["still back"], "RETRIEVAL_DOCUMENT"), 1);
    expect(embedRequests()).toHaveLength(5);
  });

  it("does not let requests Gemini rejects (4xx) open the circuit", async () => {
    const gemini = gateway({ maxRetries: 0, breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 500 } });
    for (let i = 0; i < 4; i++) {
      const error = await caught(
        gemini.caller.call("embed", () =>
          gemini.sdk.models.embedContent({ model: EMBEDDING_MODEL, contents: ["x"], config: { outputDimensionality: 0 } }),
        ),
      );
      expect(error).toBeInstanceOf(GeminiRequestError);
    }
    expect(gemini.caller.breaker.closed).toBe(true);
    expect(embedRequests()).toHaveLength(4);
    expectUnitVectors(await gemini.embed(["fine"], "RETRIEVAL_DOCUMENT"), 1);
  });

  it("rejects promptly on abort during a hung request, without retrying", async () => {
    const gemini = gateway({ maxRetries: 3, baseDelayMs: 10 });
    sim.injectFault({ kind: "hang" }, { times: Infinity, operation: "embed" });
    const controller = new AbortController();
    const pending = caught(gemini.embed(["hang on"], "RETRIEVAL_DOCUMENT", controller.signal));
    await waitFor(async () => embedRequests().length === 1, 5_000, "the simulator to receive the request");

    const started = performance.now();
    controller.abort();
    const error = await pending;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error.name).toBe("AbortError");
    expect(error).not.toBeInstanceOf(GeminiUnavailableError);
    expect(error).not.toBeInstanceOf(GeminiRequestError);
    expect(embedRequests()).toHaveLength(1);
    expect(gemini.caller.breaker.stats.failures).toBe(0);
  });

  it("rejects promptly on abort while waiting to retry", async () => {
    const gemini = gateway({ maxRetries: 3, baseDelayMs: 10, maxDelayMs: 30_000 });
    sim.injectFault({ kind: "rate_limit", retryAfterSeconds: 20 }, { times: 1, operation: "embed" });
    const controller = new AbortController();
    const pending = caught(gemini.embed(["later"], "RETRIEVAL_DOCUMENT", controller.signal));
    await waitFor(async () => embedRequests().length === 1, 5_000, "the rate-limited request");

    const started = performance.now();
    controller.abort();
    const error = await pending;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error.name).toBe("AbortError");
    expect(embedRequests()).toHaveLength(1);
  });
});

const EVIDENCE_BODY = Array.from(
  { length: 40 },
  (_, i) =>
    `Observation ${i + 1}: during guided reading Maya decoded ${20 + i} of ${30 + i} multisyllabic words and ` +
    `self-corrected ${i % 5} errors before the teacher prompted her.`,
).join(" ");

async function evidenceStatus(stack: TestStack, id: string): Promise<{ status: string; error: string | null; chunkCount: number }> {
  const result = await stack.gql(EVIDENCE_STATUS, { id });
  const evidence = result.data?.evidence;
  if (!evidence) throw new Error(`evidence ${id} not found: ${JSON.stringify(result)}`);
  return evidence;
}

async function addEvidence(stack: TestStack, studentId: string, title: string): Promise<string> {
  const result = await stack.gql(ADD_EVIDENCE, { input: { kind: "PROGRESS_NOTE", studentId, title, body: EVIDENCE_BODY } });
  const evidence = result.data?.addEvidence?.evidence;
  if (!evidence) throw new Error(`addEvidence failed: ${JSON.stringify(result)}`);
  expect(evidence.status).toBe("PENDING");
  return evidence.id as string;
}

async function chunkRows(stack: TestStack, evidenceId: string): Promise<{ id: string; ordinal: number; text: string }[]> {
  const { rows } = await stack.runtime.pool.query<{ id: string; ordinal: number; text: string }>(
    "select id, ordinal, text from evidence_chunks where evidence_id = $1 order by ordinal",
    [evidenceId],
  );
  return rows;
}

const EXPECTED_CHUNKS = chunkText(EVIDENCE_BODY).length;

describe("evidence ingestion under Gemini faults (real worker)", () => {
  let stack: TestStack;
  let studentId: string;
  let deps: IngestionDeps;
  const embedRequests = () => stack.simulator.requests.filter((r) => r.operation === "embed");

  beforeAll(async () => {
    stack = await startTestStack({ maxRetries: 3 });
    studentId = await createStudentViaApi(stack);
    deps = { pool: stack.runtime.pool, gemini: stack.runtime.gemini, logger: testLogger(), runnerId: stack.runtime.runnerId, extraction: stack.runtime.deps.extraction };
  });

  afterEach(() => {
    stack?.simulator.clearFaults();
    stack?.simulator.setLatencyMs(0);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it("is multi-chunk evidence", () => {
    expect(EXPECTED_CHUNKS).toBeGreaterThan(1);
  });

  it("becomes READY despite two 500s, retried inside the embedding call", async () => {
    const before = embedRequests().length;
    stack.simulator.injectFault({ kind: "server_error" }, { times: 2, operation: "embed" });
    const id = await addEvidence(stack, studentId, "Reading observations (flaky Gemini)");

    const done = await waitFor(async () => {
      const evidence = await evidenceStatus(stack, id);
      if (evidence.status === "FAILED") throw new Error(`evidence FAILED: ${evidence.error}`);
      return evidence.status === "READY" && evidence;
    }, 15_000, "evidence READY");
    expect(done.chunkCount).toBe(EXPECTED_CHUNKS);
    expect(done.error).toBeNull();
    expect(await chunkRows(stack, id)).toHaveLength(EXPECTED_CHUNKS);

    const requests = embedRequests().slice(before);
    expect(requests).toHaveLength(3); // two 500s, then the answer
    expect(requests[1]!.body).toEqual(requests[0]!.body);
    expect(requests[2]!.body).toEqual(requests[0]!.body);
  });

  it("skips a READY document without calling Gemini or touching its chunks", async () => {
    const id = await addReadyEvidence(stack, studentId, { title: "Already ingested", body: EVIDENCE_BODY });
    const chunksBefore = await chunkRows(stack, id);
    expect(chunksBefore).toHaveLength(EXPECTED_CHUNKS);
    const requestsBefore = embedRequests().length;

    expect(await ingestEvidence(deps, id)).toBe("SKIPPED");
    expect(await ingestEvidence(deps, id)).toBe("SKIPPED");

    expect(await chunkRows(stack, id)).toEqual(chunksBefore);
    expect(embedRequests()).toHaveLength(requestsBefore);
    expect(await evidenceStatus(stack, id)).toMatchObject({ status: "READY", chunkCount: EXPECTED_CHUNKS });
  });

  it("stores exactly one set of chunks when two ingestions of a PENDING document race", async () => {
    // Inserted directly, without a queued job, so that only these two ingestions run.
    const evidence = await queueEvidence({ db: stack.runtime.pool, log: testLogger() }, {
      schoolId: stack.tenant.schoolId,
      studentId,
      kind: "PROGRESS_NOTE",
      title: "Raced document",
      body: EVIDENCE_BODY,
      createdBy: null,
    });
    expect(evidence.status).toBe("PENDING");
    const requestsBefore = embedRequests().length;
    stack.simulator.setLatencyMs(150); // both calls are embedding before either stores its chunks

    const outcomes = await Promise.all([
      ingestEvidence(deps, evidence.id),
      ingestEvidence(deps, evidence.id),
    ]);

    expect(outcomes.sort()).toEqual(["READY", "SKIPPED"]);
    expect(embedRequests().length - requestsBefore).toBe(2); // both really got as far as storing
    const chunks = await chunkRows(stack, evidence.id);
    expect(chunks.map((c) => c.ordinal)).toEqual(Array.from({ length: EXPECTED_CHUNKS }, (_, i) => i));
    expect(chunks.map((c) => c.text)).toEqual(chunkText(EVIDENCE_BODY));
    expect(await evidenceStatus(stack, evidence.id)).toMatchObject({ status: "READY", chunkCount: EXPECTED_CHUNKS, error: null });
  });
});

describe("evidence ingestion while Gemini is down longer than the in-call retries (real worker)", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ maxRetries: 1 });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it("stays PENDING without using up job attempts while Gemini is down, then becomes READY", { timeout: 40_000 }, async () => {
    const studentId = await createStudentViaApi(stack);
    // Each job attempt makes 1 + maxRetries = 2 calls: the first two attempts find Gemini down.
    stack.simulator.injectFault({ kind: "server_error" }, { times: 4, operation: "embed" });
    const id = await addEvidence(stack, studentId, "Reading observations (Gemini outage)");
    const jobKey = `ingest_evidence:${id}`;

    const waiting = await waitFor(async () => {
      const evidence = await evidenceStatus(stack, id);
      return evidence.status === "PENDING" && /Gemini is unavailable/.test(evidence.error ?? "") && evidence;
    }, 20_000, "evidence waiting for Gemini");
    expect(waiting.error).toMatch(/Gemini embed failed after 2 attempts.*trying again at \d{4}-/);
    expect(await chunkRows(stack, id)).toHaveLength(0);
    const { rows: [job] } = await stack.runtime.pool.query<{ attempts: number; run_at: Date }>(
      "select attempts, run_at from graphile_worker.jobs where key = $1", [jobKey]);
    expect(job?.attempts).toBe(0);

    const ready = await waitFor(async () => {
      const evidence = await evidenceStatus(stack, id);
      if (evidence.status === "FAILED") throw new Error(`evidence FAILED: ${evidence.error}`);
      return evidence.status === "READY" && evidence;
    }, 20_000, "evidence READY after the outage");
    expect(ready).toMatchObject({ chunkCount: EXPECTED_CHUNKS, error: null });
    expect(await chunkRows(stack, id)).toHaveLength(EXPECTED_CHUNKS);
    await waitFor(async () => (await stack.runtime.pool.query("select 1 from graphile_worker.jobs where key = $1", [jobKey])).rowCount === 0,
      5000, "the job to be done");

    // 4 failures then the answer; between attempts the job waited the outage delay, not exponential backoff.
    const at = stack.simulator.requests.filter((r) => r.operation === "embed").map((r) => r.at.getTime());
    expect(at).toHaveLength(5);
    expect(at[1]! - at[0]!).toBeLessThan(1_000);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(OUTAGE_RETRY_DELAY_MS - 100);
    expect(at[3]! - at[2]!).toBeLessThan(1_000);
    expect(at[4]! - at[3]!).toBeGreaterThanOrEqual(OUTAGE_RETRY_DELAY_MS - 100);
  });
});
