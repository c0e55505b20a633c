import type { BatchProgressView } from "../src/services/generation/stream.ts";
import type { Client as SseClient } from "graphql-sse";
import type { Client as WsClient } from "graphql-ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  GENERATION,
  GENERATION_EVENTS,
  generate,
  sseClient,
  storedEvents,
  studentWithEvidence,
  waitForStatus,
  wsClient,
  type StreamedEvent,
} from "./helpers/generation.ts";
import { startTestStack, waitFor, type TestStack } from "./helpers/stack.ts";
import { streamGenerationEvents } from "../src/services/generation/stream.ts";

/**
 * End to end over a real socket: generateIep → generationEvents (graphql-ws and SSE) → SUCCEEDED,
 * replay of finished generations, resuming with afterSeq after a dropped connection, batches with
 * batchProgress, and tenant isolation. The worker (concurrency 2) and the Gemini simulator are real.
 */

type AnyClient = WsClient | SseClient;

interface Collected {
  events: StreamedEvent[];
  /** True when the server completed the subscription by itself (not stopped by us or a timeout). */
  completed: boolean;
  timedOut: boolean;
}

/** Collects `generationEvents` until the server completes it, `stopAfter` says stop, or the timeout. */
async function collect(
  client: AnyClient,
  variables: { id: string; afterSeq?: number },
  options: { stopAfter?: (events: StreamedEvent[]) => boolean; timeoutMs?: number } = {},
): Promise<Collected> {
  const events: StreamedEvent[] = [];
  const iterator = client.iterate<{ generationEvents: StreamedEvent }>({ query: GENERATION_EVENTS, variables });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void iterator.return?.();
  }, options.timeoutMs ?? 25_000);
  let stopped = false;
  try {
    for await (const result of iterator) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      events.push(result.data!.generationEvents);
      if (options.stopAfter?.(events)) {
        stopped = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  return { events, completed: !stopped && !timedOut, timedOut };
}

/** The first error a subscription produces (graphql-ws rejects with the error list; SSE yields it). */
async function subscriptionError(client: AnyClient, variables: { id: string; afterSeq?: number }): Promise<string> {
  const iterator = client.iterate({ query: GENERATION_EVENTS, variables });
  try {
    const first = await iterator.next();
    return JSON.stringify(first.value?.errors ?? first.value ?? null);
  } catch (error) {
    return error instanceof Error ? error.message : JSON.stringify(error);
  } finally {
    await iterator.return?.();
  }
}

const seqsOf = (events: { seq: number }[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * Ordering invariants of one connection's stream: seq never decreases, stored seqs strictly
 * increase (no duplicates), and every text delta repeats the seq of the latest stored event before it.
 * `resumedAfter` is the afterSeq the connection was opened with (a delta may repeat that seq).
 */
function expectOrdered(events: StreamedEvent[], resumedAfter = 0): void {
  let latestStored = resumedAfter > 0 ? resumedAfter : undefined;
  let previousSeq = resumedAfter;
  for (const [index, event] of events.entries()) {
    expect(event.seq, `seq at #${index} never decreases`).toBeGreaterThanOrEqual(previousSeq);
    previousSeq = event.seq;
    if (event.textDelta === null) {
      if (latestStored !== undefined) expect(event.seq, `stored seq at #${index} strictly increases`).toBeGreaterThan(latestStored);
      latestStored = event.seq;
    } else {
      expect(latestStored, `text delta #${index} comes after a stored event`).toBeDefined();
      expect(event.seq, `text delta #${index} repeats the latest stored seq`).toBe(latestStored);
      expect(event.status).toBe("RUNNING");
      expect(event.stage).toBe("DRAFTING");
    }
  }
}

async function loadGeneration(stack: TestStack, id: string, token?: string) {
  const result = await stack.gql(GENERATION, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data.generation;
}

describe("generation streaming (graphql-ws and SSE)", () => {
  let stack: TestStack;
  let studentId: string;
  const clients: AnyClient[] = [];
  /** A generation the first test finished: used by the replay and tenant tests. */
  let finishedId: string | undefined;

  const ws = () => {
    const client = wsClient(stack);
    clients.push(client);
    return client;
  };
  const sse = () => {
    const client = sseClient(stack);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    studentId = await studentWithEvidence(stack);
  });
  afterEach(() => {
    stack.simulator.setLatencyMs(0);
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await stack?.close();
  });

  /** generateIep (async) → subscribe with afterSeq 0 at once → collect until the server completes it. */
  async function generateAndStream(client: AnyClient) {
    // Every Gemini call waits this long (retrieval embeds one query per section, the draft streams
    // its 6 chunks over about the same time again), so the draft arrives as several spread-out deltas.
    stack.simulator.setLatencyMs(600);
    const queued = await generate(stack, { studentId });
    expect(queued.status).toBe("QUEUED");
    const { events, completed } = await collect(client, { id: queued.id, afterSeq: 0 });
    expect(completed).toBe(true);
    const generation = await loadGeneration(stack, queued.id);
    return { id: queued.id, events, generation };
  }

  function expectCompleteStream(events: StreamedEvent[], generation: any): void {
    expect(generation.status).toBe("SUCCEEDED");
    const stored = storedEvents(events);
    const n = generation.lastSeq as number;
    // Exactly 1..N, no gaps or duplicates, and identical to what the API stored.
    expect(seqsOf(stored)).toEqual(range(1, n));
    expect(seqsOf(generation.events)).toEqual(range(1, n));
    expect(stored.map(({ seq, status, progress, stage, message }) => ({ seq, status, progress, stage, message }))).toEqual(generation.events);

    // QUEUED → RUNNING… → SUCCEEDED with progress 1 as the very last event.
    expect(stored[0]!.status).toBe("QUEUED");
    expect(stored.slice(1, -1).every((e) => e.status === "RUNNING")).toBe(true);
    expect(stored.length).toBeGreaterThanOrEqual(6);
    expect(events.at(-1)).toMatchObject({ status: "SUCCEEDED", progress: 1, stage: "DONE", textDelta: null });
    const stages = stored.map((e) => e.stage);
    for (const stage of ["STARTING", "RETRIEVING", "DRAFTING", "VALIDATING", "SAVING", "DONE"]) expect(stages).toContain(stage);
    expect(stages.indexOf("RETRIEVING")).toBeLessThan(stages.indexOf("DRAFTING"));
    expect(stages.lastIndexOf("DRAFTING")).toBeLessThan(stages.indexOf("VALIDATING"));
    expect(stages.indexOf("VALIDATING")).toBeLessThan(stages.indexOf("SAVING"));
    // Progress never goes backwards within one attempt.
    for (let i = 2; i < stored.length; i++) expect(stored[i]!.progress).toBeGreaterThanOrEqual(stored[i - 1]!.progress);

    expectOrdered(events);
    const deltas = events.filter((e) => e.textDelta !== null);
    // 6 simulator chunks ~100 ms apart, coalesced every 50 ms: several deltas, not one blob.
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    // The deltas are the whole draft: concatenated, they are exactly the saved IEP content.
    const draft = JSON.parse(deltas.map((e) => e.textDelta).join(""));
    expect(draft).toEqual(generation.iep.content);
  }

  it("generateIep → generationEvents over graphql-ws: every stored event once, in order, deltas = the saved draft", async () => {
    const { id, events, generation } = await generateAndStream(ws());
    expectCompleteStream(events, generation);
    finishedId = id;
  });

  it("generateIep → generationEvents over SSE (graphql-sse): the same guarantees", async () => {
    const { events, generation } = await generateAndStream(sse());
    expectCompleteStream(events, generation);
  });

  it("subscribing to a finished generation replays its stored events and completes (WS and SSE, afterSeq 0 and later)", async () => {
    const id = finishedId ?? (await generate(stack, { studentId }, { async: false })).id;
    const generation = await waitForStatus(stack, id, ["SUCCEEDED"]);
    const expected = generation.events.map((e: any) => ({ ...e, textDelta: null }));
    for (const client of [ws(), sse()]) {
      const all = await collect(client, { id, afterSeq: 0 }, { timeoutMs: 10_000 });
      expect(all.completed).toBe(true);
      expect(all.events.map(({ at: _at, ...e }) => e)).toEqual(expected);

      const tail = await collect(client, { id, afterSeq: 3 }, { timeoutMs: 10_000 });
      expect(tail.completed).toBe(true);
      expect(seqsOf(tail.events)).toEqual(range(4, generation.lastSeq));

      const none = await collect(client, { id, afterSeq: generation.lastSeq }, { timeoutMs: 10_000 });
      expect(none.completed).toBe(true);
      expect(none.events).toEqual([]);

      // Past the latest event nothing could ever arrive: refused at once instead of never completing.
      expect(await subscriptionError(client, { id, afterSeq: generation.lastSeq + 1 })).toContain("afterSeq must be at most");
    }
  });

  it("a subscriber that lags behind the live stream still gets the whole draft, in order", async () => {
    // Service level, on the stack's real pool and event bus: the socket transports give the server
    // no backpressure we can control from here, so the lag is a consumer that takes 20 ms per event.
    // Once retrieval starts, the model answers instantly, so the worker races ahead of the consumer
    // and stored events are already in the table while earlier text deltas are still queued live.
    stack.simulator.setLatencyMs(300);
    const queued = await generate(stack, { studentId });
    const events: StreamedEvent[] = [];
    let fast = false;
    const stream = streamGenerationEvents(stack.runtime.pool, stack.runtime.bus.pubsub, { schoolId: stack.tenant.schoolId, generationId: queued.id }, 0);
    for await (const event of stream) {
      events.push({ ...event, stage: event.stage.toUpperCase(), at: event.at.toISOString() }); // as GraphQL serialises the enum
      if (!fast && event.stage === "retrieving") {
        fast = true;
        stack.simulator.setLatencyMs(0);
      }
      if (fast) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const generation = await loadGeneration(stack, queued.id);
    expect(generation.status).toBe("SUCCEEDED");
    expect(seqsOf(storedEvents(events))).toEqual(range(1, generation.lastSeq));
    expectOrdered(events);
    const deltas = events.filter((e) => e.textDelta !== null);
    expect(JSON.parse(deltas.map((e) => e.textDelta).join(""))).toEqual(generation.iep.content);
  });

  /**
   * Drop the connection after the first RUNNING event, stay away while the job moves on, then
   * resume with afterSeq = the last stored seq seen: nothing missed, nothing duplicated.
   */
  async function dropAndResume(first: AnyClient, makeSecond: () => AnyClient) {
    // 6 retrieval embeds + the streamed draft at 900 ms each: the job runs for ~7 s.
    stack.simulator.setLatencyMs(900);
    const queued = await generate(stack, { studentId });
    const before = await collect(first, { id: queued.id, afterSeq: 0 }, {
      stopAfter: (events) => events.some((e) => e.textDelta === null && e.status === "RUNNING"),
    });
    expect(before.completed).toBe(false);
    await first.dispose(); // the dropped connection
    const seenBefore = storedEvents(before.events);
    const resumeFrom = seenBefore.at(-1)!.seq;
    expect(seenBefore.at(-1)!.status).toBe("RUNNING");
    expect(seqsOf(seenBefore)).toEqual(range(1, resumeFrom));

    // While disconnected, at least two more stored events happen (retrieving, drafting).
    const progressed = await waitFor(async () => {
      const g = (await stack.gql(GENERATION, { id: queued.id })).data?.generation;
      return g && g.lastSeq >= resumeFrom + 2 ? g : undefined;
    }, 15_000, "events while disconnected");
    expect(progressed.status).toBe("RUNNING");

    const after = await collect(makeSecond(), { id: queued.id, afterSeq: resumeFrom });
    expect(after.completed).toBe(true);
    expectOrdered(after.events, resumeFrom);
    expect(after.events.at(-1)).toMatchObject({ status: "SUCCEEDED", progress: 1, textDelta: null });

    const generation = await loadGeneration(stack, queued.id);
    expect(generation.status).toBe("SUCCEEDED");
    const union = [...seqsOf(seenBefore), ...seqsOf(storedEvents(after.events))];
    expect(union).toEqual(range(1, generation.lastSeq));
    // The events missed while away were replayed from the table, then the live ones followed.
    expect(storedEvents(after.events)[0]!.seq).toBe(resumeFrom + 1);
    expect(storedEvents(after.events).map((e) => e.stage)).toEqual(expect.arrayContaining(["RETRIEVING", "DRAFTING", "VALIDATING", "SAVING"]));
  }

  it("resumes with afterSeq after a dropped graphql-ws connection: union of stored seqs is exactly 1..N", async () => {
    await dropAndResume(ws(), ws);
  });

  it("resumes with afterSeq after a dropped SSE connection: union of stored seqs is exactly 1..N", async () => {
    await dropAndResume(sse(), sse);
  });

  it("another school cannot subscribe to or read a generation", async () => {
    const id = finishedId ?? (await generate(stack, { studentId })).id;
    const outsider = await stack.createTenant();
    const outsiderWs = wsClient(stack, outsider.token);
    const outsiderSse = sseClient(stack, outsider.token);
    clients.push(outsiderWs, outsiderSse);

    expect(await subscriptionError(outsiderWs, { id, afterSeq: 0 })).toContain(`Generation ${id} was not found`);
    expect(await subscriptionError(outsiderSse, { id, afterSeq: 0 })).toContain(`Generation ${id} was not found`);
    const read = await stack.gql(GENERATION, { id }, outsider.token);
    expect(read.errors).toBeUndefined();
    expect(read.data.generation).toBeNull();
    // The owner still can.
    expect((await loadGeneration(stack, id)).id).toBe(id);
  });
});

const GENERATE_IEPS = /* GraphQL */ `
  mutation GenerateIeps($input: GenerateIepsInput!) {
    generateIeps(input: $input) {
      __typename
      ... on GenerateIepsSuccess { batch { id generations { id status batchId student { id } } progress { total queued done } } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { message resourceType resourceId }
    }
  }
`;

const BATCH_PROGRESS = /* GraphQL */ `
  subscription BatchProgress($id: ID!) {
    batchProgress(id: $id) { batchId total queued running succeeded failed cancelled done }
  }
`;

const BATCH_GENERATIONS = /* GraphQL */ `
  query BatchGenerations($batchId: ID!) {
    generations(first: 50, filter: { batchId: $batchId }) {
      edges { node { id status batchId progress lastSeq student { id } iep { id content } } }
    }
  }
`;

type Progress = BatchProgressView;

describe("batch generation (generateIeps + batchProgress)", () => {
  let stack: TestStack;
  const clients: AnyClient[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await stack?.close();
  });

  async function tableCounts(schoolId: string) {
    const { rows } = await stack.runtime.pool.query(
      `select (select count(*)::int from generation_batches where school_id = $1) as batches,
              (select count(*)::int from generations where school_id = $1) as generations,
              (select count(*)::int from graphile_worker.jobs) as jobs`,
      [schoolId],
    );
    return rows[0] as { batches: number; generations: number; jobs: number };
  }

  it("queues 10 generations, streams consistent counts until all SUCCEEDED, and saves 10 IEPs", async () => {
    const studentIds = await Promise.all(Array.from({ length: 10 }, () => studentWithEvidence(stack)));
    expect(new Set(studentIds).size).toBe(10);

    const result = await stack.gql(GENERATE_IEPS, { input: { studentIds } });
    expect(result.errors).toBeUndefined();
    const payload = result.data.generateIeps;
    expect(payload.__typename).toBe("GenerateIepsSuccess");
    const batch = payload.batch;
    expect(batch.generations).toHaveLength(10);
    expect(batch.generations.every((g: any) => g.status === "QUEUED" && g.batchId === batch.id)).toBe(true);
    expect(batch.generations.map((g: any) => g.student.id).sort()).toEqual([...studentIds].sort());
    expect(batch.progress).toMatchObject({ total: 10, done: false });

    const client = wsClient(stack);
    clients.push(client);
    const emissions: Progress[] = [];
    let completed = false;
    const iterator = client.iterate<{ batchProgress: Progress }>({ query: BATCH_PROGRESS, variables: { id: batch.id } });
    const timer = setTimeout(() => void iterator.return?.(), 30_000);
    try {
      for await (const next of iterator) {
        expect(next.errors).toBeUndefined();
        emissions.push(next.data!.batchProgress);
      }
      completed = emissions.at(-1)?.done === true;
    } finally {
      clearTimeout(timer);
      await iterator.return?.();
    }

    expect(completed).toBe(true);
    expect(emissions.length).toBeGreaterThanOrEqual(2);
    expect(emissions[0]!.total).toBe(10);
    for (const p of emissions) {
      expect(p.batchId).toBe(batch.id);
      expect(p.total).toBe(10);
      expect(p.queued + p.running + p.succeeded + p.failed + p.cancelled).toBe(p.total);
      expect(p.done).toBe(p.succeeded + p.failed + p.cancelled === p.total);
    }
    // Terminal counts only grow; consecutive emissions differ (only changes are sent).
    for (let i = 1; i < emissions.length; i++) {
      expect(emissions[i]!.succeeded).toBeGreaterThanOrEqual(emissions[i - 1]!.succeeded);
      expect(emissions[i]).not.toEqual(emissions[i - 1]);
    }
    expect(emissions.slice(0, -1).every((p) => !p.done)).toBe(true);
    expect(emissions.at(-1)).toMatchObject({ total: 10, succeeded: 10, failed: 0, cancelled: 0, queued: 0, running: 0, done: true });
    // Worker concurrency is 2: never more than 2 RUNNING at once.
    expect(Math.max(...emissions.map((p) => p.running))).toBeLessThanOrEqual(2);

    const listed = await stack.gql(BATCH_GENERATIONS, { batchId: batch.id });
    expect(listed.errors).toBeUndefined();
    const nodes = listed.data.generations.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(10);
    expect(new Set(nodes.map((g: any) => g.id))).toEqual(new Set(batch.generations.map((g: any) => g.id)));
    for (const g of nodes) {
      expect(g).toMatchObject({ status: "SUCCEEDED", batchId: batch.id, progress: 1 });
      expect(g.iep?.id).toBeTruthy();
      expect(Object.keys(g.iep.content).length).toBeGreaterThan(0);
    }
    expect(new Set(nodes.map((g: any) => g.iep.id)).size).toBe(10);

    // A finished batch: batchProgress emits the final counts once and completes.
    const again = client.iterate<{ batchProgress: Progress }>({ query: BATCH_PROGRESS, variables: { id: batch.id } });
    const replayed: Progress[] = [];
    for await (const next of again) replayed.push(next.data!.batchProgress);
    expect(replayed).toEqual([emissions.at(-1)]);
  });

  it("an unknown student id is a NotFoundError and writes no batch, generation or job", async () => {
    const known = await studentWithEvidence(stack);
    const unknown = "00000000-0000-4000-8000-000000000000";
    // Let the evidence jobs drain so the job count is stable.
    await waitFor(async () => (await tableCounts(stack.tenant.schoolId)).jobs === 0, 10_000, "job queue to drain");
    const before = await tableCounts(stack.tenant.schoolId);

    const result = await stack.gql(GENERATE_IEPS, { input: { studentIds: [known, unknown] } });
    expect(result.errors).toBeUndefined();
    expect(result.data.generateIeps).toMatchObject({ __typename: "NotFoundError", resourceType: "Student", resourceId: unknown });
    expect(await tableCounts(stack.tenant.schoolId)).toEqual(before);

    // Another school's student is just as unknown.
    const outsider = await stack.createTenant();
    const theirs = (await stack.gql(GENERATE_IEPS, { input: { studentIds: [known] } }, outsider.token)).data.generateIeps;
    expect(theirs).toMatchObject({ __typename: "NotFoundError", resourceId: known });
    expect(await tableCounts(outsider.schoolId)).toMatchObject({ batches: 0, generations: 0 });
    expect((await tableCounts(stack.tenant.schoolId)).jobs).toBe(before.jobs);
  });

  it("a repeated student id or an empty list is a ValidationError and writes nothing", async () => {
    const known = await studentWithEvidence(stack);
    await waitFor(async () => (await tableCounts(stack.tenant.schoolId)).jobs === 0, 10_000, "job queue to drain");
    const before = await tableCounts(stack.tenant.schoolId);
    for (const studentIds of [[known, known], []]) {
      const result = await stack.gql(GENERATE_IEPS, { input: { studentIds } });
      expect(result.errors).toBeUndefined();
      const payload = result.data.generateIeps;
      expect(payload.__typename).toBe("ValidationError");
      expect(payload.fieldErrors.length).toBeGreaterThan(0);
      expect(payload.fieldErrors[0].path[0]).toBe("studentIds");
    }
    expect(await tableCounts(stack.tenant.schoolId)).toEqual(before);
  });
});
