import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ADD_EVIDENCE, createStudentViaApi, startTestStack, type TestStack } from "./helpers/stack.ts";

const STATUS_SUBSCRIPTION = /* GraphQL */ `
  subscription EvidenceStatusChanged($studentId: ID!) {
    evidenceStatusChanged(studentId: $studentId) { id status chunkCount title }
  }
`;

type StatusEvent = { id: string; status: string; chunkCount: number; title: string };

/** Collects events from an async iterator until `done` says stop (or the timeout passes). */
async function collectUntil<T>(iterator: AsyncIterableIterator<T>, done: (events: T[]) => boolean, timeoutMs = 15_000): Promise<T[]> {
  const events: T[] = [];
  const timeout = setTimeout(() => void iterator.return?.(), timeoutMs);
  try {
    for await (const event of iterator) {
      events.push(event);
      if (done(events)) break;
    }
  } finally {
    clearTimeout(timeout);
    await iterator.return?.();
  }
  return events;
}

function statusesOf(results: { data?: { evidenceStatusChanged?: StatusEvent } | null }[], id: string): string[] {
  return results.map((r) => r.data?.evidenceStatusChanged).filter((e) => e?.id === id).map((e) => e!.status);
}

describe("subscriptions on /graphql", () => {
  let stack: TestStack;
  let studentId: string;
  const wsClients: WsClient[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    studentId = await createStudentViaApi(stack);
  });
  afterAll(async () => {
    for (const client of wsClients) await client.dispose();
    await stack?.close();
  });

  async function addEvidence(title: string): Promise<string> {
    const { data } = await stack.gql(ADD_EVIDENCE, {
      input: { studentId, kind: "TEACHER_OBSERVATION", title, body: `${title}: the student followed two-step directions.` },
    });
    return data.addEvidence.evidence.id;
  }

  it("delivers evidence status changes over graphql-ws (WebSocket)", async () => {
    const client = createWsClient({
      url: stack.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${stack.tenant.token}` },
      retryAttempts: 0,
    });
    wsClients.push(client);
    let evidenceId = "";
    const iterator = client.iterate<{ evidenceStatusChanged: StatusEvent }>({ query: STATUS_SUBSCRIPTION, variables: { studentId } });
    const subscribed = new Promise<void>((resolve) => client.on("connected", () => setTimeout(resolve, 100)));
    const eventsPromise = collectUntil(iterator, (events) => evidenceId !== "" && statusesOf(events, evidenceId).includes("READY"));
    await subscribed;
    evidenceId = await addEvidence("WS observation");
    const events = await eventsPromise;
    expect(statusesOf(events, evidenceId)).toEqual(["PENDING", "READY"]);
    expect(events.at(-1)?.data?.evidenceStatusChanged.chunkCount).toBeGreaterThan(0);
  });

  it("delivers evidence status changes over SSE (graphql-sse, distinct connections)", async () => {
    const client = createSseClient({
      url: stack.graphqlUrl,
      headers: { authorization: `Bearer ${stack.tenant.token}` },
      retryAttempts: 0,
    });
    let evidenceId = "";
    const iterator = client.iterate<{ evidenceStatusChanged: StatusEvent }>({ query: STATUS_SUBSCRIPTION, variables: { studentId } });
    const eventsPromise = collectUntil(iterator, (events) => evidenceId !== "" && statusesOf(events, evidenceId).includes("READY"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    evidenceId = await addEvidence("SSE observation");
    const events = await eventsPromise;
    expect(statusesOf(events, evidenceId)).toContain("READY");
    client.dispose();
  });

  it("streams SSE to a plain fetch with Accept: text/event-stream", async () => {
    const controller = new AbortController();
    const response = await fetch(stack.graphqlUrl, {
      method: "POST",
      signal: controller.signal,
      headers: {
        accept: "text/event-stream",
        "content-type": "application/json",
        authorization: `Bearer ${stack.tenant.token}`,
      },
      body: JSON.stringify({ query: STATUS_SUBSCRIPTION, variables: { studentId } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const evidenceId = await addEvidence("Raw SSE observation");
    let text = "";
    while (!text.includes(`"${evidenceId}"`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toMatch(/event: next/);
    expect(text).toContain(evidenceId);
  });

  it("refuses a graphql-ws connection without a valid token (close code 4403)", async () => {
    const closed = new Promise<number>((resolve) => {
      const client = createWsClient({
        url: stack.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: "Bearer not-a-token" },
        retryAttempts: 0,
        lazy: false,
        on: { closed: (event) => resolve((event as { code: number }).code) },
        onNonLazyError: () => undefined,
      });
      wsClients.push(client);
    });
    expect(await closed).toBe(4403);
  });

  it("does not let another school subscribe to a student", async () => {
    const outsider = await stack.createTenant();
    const client = createWsClient({
      url: stack.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${outsider.token}` },
      retryAttempts: 0,
    });
    wsClients.push(client);
    const iterator = client.iterate({ query: STATUS_SUBSCRIPTION, variables: { studentId } });
    const first = await iterator.next();
    await iterator.return?.();
    expect(first.value).toMatchObject({ errors: [{ message: `Student ${studentId} was not found` }] });
    expect(first.value.data ?? null).toBeNull();
  });
});
