import { createClient as createSseClient, type Client as SseClient } from "graphql-sse";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import WebSocket from "ws";
import type { GeminiSimulator } from "../../src/gemini/simulator/server.ts";
import { defaultGeneratedText } from "../../src/gemini/simulator/generation.ts";
import { addReadyEvidence, createStudentViaApi, waitFor, type TestStack } from "./stack.ts";

export const GENERATE_IEP = /* GraphQL */ `
  mutation GenerateIep($input: GenerateIepInput!, $async: Boolean) {
    generateIep(input: $input, async: $async) {
      __typename
      ... on GenerateIepSuccess { created generation { id status kind attempts error lastSeq queuePosition estimatedCompletionAt iep { id } } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { message resourceType resourceId }
      ... on InvalidStateError { message currentState }
    }
  }
`;

export const GENERATION = /* GraphQL */ `
  query Generation($id: ID!) {
    generation(id: $id) {
      id kind status progress stage message attempts maxAttempts error lastSeq section
      startedAt finishedAt queuePosition estimatedCompletionAt
      events { seq status progress stage message }
      iep { id version academicYear model content sections { kind content citations { chunkId chunk { id } } } }
    }
  }
`;

export const GENERATION_EVENTS = /* GraphQL */ `
  subscription GenerationEvents($id: ID!, $afterSeq: Int) {
    generationEvents(id: $id, afterSeq: $afterSeq) { seq status progress stage message textDelta at }
  }
`;

export interface StreamedEvent {
  seq: number;
  status: string;
  progress: number;
  stage: string | null;
  message: string | null;
  textDelta: string | null;
  at: string;
}

/** Evidence bodies with numbers an IEP can cite: reading, math, behaviour, and (older students) transition. */
export const EVIDENCE_DOCS = [
  { kind: "PROGRESS_NOTE", title: "Reading fluency progress", body: "Oral reading fluency on DIBELS 8 rose from a baseline of 18 to 44 words correct per minute with 92% accuracy after repeated reading three times a week." },
  { kind: "EVALUATION", title: "Psychoeducational evaluation", body: "WIAT-4 math problem solving standard score 82; numerical operations 79. Working memory index 85 on the WISC-V. Benefits from manipulatives and worked examples." },
  { kind: "TEACHER_OBSERVATION", title: "Classroom observation", body: "On task during 65% of observed intervals in independent work; movement breaks every 15 minutes and a visual timer reduced off-task behaviour." },
  { kind: "ASSESSMENT", title: "Transition interest inventory", body: "Career interest inventory shows strong interest in animal care and landscaping; wants to live with a roommate and take the bus independently after graduation." },
] as const;

/** A student (default about 10 years old) with READY evidence, created through the API. */
export async function studentWithEvidence(stack: TestStack, options: { dateOfBirth?: string; grade?: string; token?: string } = {}): Promise<string> {
  const studentId = await createStudentViaApi(
    stack,
    { dateOfBirth: options.dateOfBirth ?? "2016-03-01", grade: options.grade ?? "5", disabilityCategories: ["SPECIFIC_LEARNING_DISABILITY"] },
    options.token,
  );
  for (const doc of EVIDENCE_DOCS) await addReadyEvidence(stack, studentId, doc, options.token);
  return studentId;
}

/** Queues (or with async: false runs) a generation and returns the success payload's generation. */
export async function generate(stack: TestStack, input: Record<string, unknown>, options: { async?: boolean; token?: string } = {}) {
  const result = await stack.gql(GENERATE_IEP, { input, async: options.async ?? true }, options.token);
  const payload = result.data?.generateIep;
  if (payload?.__typename !== "GenerateIepSuccess") throw new Error(`generateIep failed: ${JSON.stringify(result)}`);
  return payload.generation as { id: string; status: string; lastSeq: number; iep: { id: string } | null };
}

/** Polls the generation until its status is one of `statuses`; returns the full GENERATION view. */
export async function waitForStatus(stack: TestStack, id: string, statuses: string[], timeoutMs = 20_000, token?: string) {
  return waitFor(async () => {
    const generation = (await stack.gql(GENERATION, { id }, token)).data?.generation;
    return statuses.includes(generation?.status) ? generation : undefined;
  }, timeoutMs, `generation ${id} to reach ${statuses.join("/")}`);
}

export function wsClient(stack: TestStack, token = stack.tenant.token): WsClient {
  return createWsClient({ url: stack.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
}

export function sseClient(stack: TestStack, token = stack.tenant.token): SseClient {
  return createSseClient({ url: stack.graphqlUrl, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
}

/**
 * Collects `generationEvents` until the subscription completes (after the terminal event), or
 * until `stopAfter` says to stop early (e.g. to simulate a dropped connection).
 */
export async function collectGenerationEvents(
  client: WsClient | SseClient,
  variables: { id: string; afterSeq?: number },
  options: { stopAfter?: (events: StreamedEvent[]) => boolean; timeoutMs?: number } = {},
): Promise<StreamedEvent[]> {
  const events: StreamedEvent[] = [];
  const iterator = client.iterate<{ generationEvents: StreamedEvent }>({ query: GENERATION_EVENTS, variables });
  const timer = setTimeout(() => void iterator.return?.(), options.timeoutMs ?? 20_000);
  try {
    for await (const result of iterator) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      events.push(result.data!.generationEvents);
      if (options.stopAfter?.(events)) break;
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
  return events;
}

/** The stored (non-delta) events of a stream. */
export function storedEvents(events: StreamedEvent[]): StreamedEvent[] {
  return events.filter((e) => e.textDelta === null);
}

/**
 * Makes the next streamed draft slow: the simulator's latency is raised the moment the stream
 * request arrives (so the retrieval embeddings before it stay fast), and the stream's headers come
 * only after `latencyMs`.
 */
export function slowNextStream(simulator: GeminiSimulator, latencyMs: number): () => void {
  simulator.setGenerateHandler((request) => {
    simulator.setLatencyMs(latencyMs);
    return defaultGeneratedText(request.body);
  });
  return () => {
    simulator.setGenerateHandler(undefined);
    simulator.setLatencyMs(0);
  };
}

/**
 * Opens a generationEvents subscription over graphql-ws and collects until it completes (or
 * `timeoutMs` passes). `events` fills live; `first` resolves on the first event (by then the live
 * listener is attached: the server listens before replaying); `done` tells whether it timed out
 * and when it completed (performance.now()).
 */
export function watchGenerationEvents(client: WsClient, id: string, options: { afterSeq?: number; timeoutMs?: number } = {}) {
  const events: StreamedEvent[] = [];
  let markFirst: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (markFirst = resolve));
  let timedOut = false;
  const iterator = client.iterate<{ generationEvents: StreamedEvent }>({ query: GENERATION_EVENTS, variables: { id, afterSeq: options.afterSeq ?? 0 } });
  const done = (async () => {
    const timer = setTimeout(() => {
      timedOut = true;
      void iterator.return?.();
    }, options.timeoutMs ?? 30_000);
    try {
      for await (const result of iterator) {
        if (result.errors) throw new Error(JSON.stringify(result.errors));
        events.push(result.data!.generationEvents);
        markFirst();
      }
    } finally {
      clearTimeout(timer);
      markFirst();
    }
    return { events, timedOut, completedAt: performance.now() };
  })();
  return { first, done, events };
}
