import { createHash, randomUUID } from "node:crypto";
import { Client, fetchExchange, gql, subscriptionExchange, type SubscriptionForwarder } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import type { IntrospectionQuery } from "graphql";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import introspection from "../../web/src/gql/introspection.json" with { type: "json" };
import { studentWithEvidence } from "../helpers/generation.ts";
import { createStudentViaApi, startTestStack, waitFor, type TestStack } from "../helpers/stack.ts";
import { fixture } from "../helpers/uploads.ts";

/**
 * urql 6 as a frontend would set it up, against a real running server: Graphcache given the
 * generated introspection (and no keys, resolvers or updaters), fetch for queries and mutations,
 * and subscriptions over graphql-ws, then over SSE (graphql-sse; yoga serves it on /graphql).
 */

const GENERATE = gql`
  mutation ClientsUrqlGenerate($studentId: ID!) {
    generateIep(input: { studentId: $studentId }) {
      __typename
      ... on GenerateIepSuccess { generation { id status stage progress } }
      ... on Error { message }
    }
  }
`;

const GENERATION = gql`
  query ClientsUrqlGeneration($id: ID!) {
    generation(id: $id) { id status stage progress lastSeq }
  }
`;

const EVENTS = gql`
  subscription ClientsUrqlEvents($id: ID!) {
    generationEvents(id: $id) { seq status stage textDelta generation { id status stage progress lastSeq } }
  }
`;

const IEP = gql`
  query ClientsUrqlIep($id: ID!) {
    generation(id: $id) {
      id status
      iep { id version status sections { id kind label content } }
    }
  }
`;

const CANCEL = gql`
  mutation ClientsUrqlCancel($id: ID!) {
    cancelGeneration(id: $id) {
      __typename
      ... on CancelGenerationSuccess { generation { id status } }
      ... on Error { message }
      ... on NotFoundError { resourceType resourceId }
    }
  }
`;

const SOURCE = gql`
  query ClientsUrqlSource($id: ID!) {
    evidence(id: $id) { id source { filename mediaType byteSize sha256 downloadUrl } }
  }
`;

const UPLOAD = gql`
  mutation ClientsUrqlUpload($input: AddEvidenceInput!) {
    addEvidence(input: $input) {
      __typename
      ... on AddEvidenceSuccess { evidence { id status } }
      ... on Error { message }
    }
  }
`;

type Transport = "graphql-ws" | "SSE";

describe.each<Transport>(["graphql-ws", "SSE"])("urql 6 with Graphcache, subscriptions over %s", (transport) => {
  let stack: TestStack;
  let studentId: string;
  let client: Client;
  let closeTransport: () => Promise<void> | void;

  /** graphql-ws and graphql-sse clients share the sink-based `subscribe` urql forwards to. */
  function forwarder(): SubscriptionForwarder {
    const authorization = `Bearer ${stack.tenant.token}`;
    const sink = transport === "SSE"
      ? createSseClient({ url: stack.graphqlUrl, headers: { authorization }, retryAttempts: 0 })
      : createWsClient({ url: stack.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization } });
    closeTransport = () => sink.dispose();
    return (request) => ({
      subscribe: (observer) => ({ unsubscribe: sink.subscribe({ ...request, query: request.query ?? "" }, observer) }),
    });
  }

  beforeAll(async () => {
    stack = await startTestStack({ latencyMs: 100 }); // a generation takes long enough to be seen QUEUED or RUNNING first
    studentId = await studentWithEvidence(stack);
    client = new Client({
      url: stack.graphqlUrl,
      fetchOptions: { headers: { authorization: `Bearer ${stack.tenant.token}` } },
      exchanges: [
        // EvidenceSource has no id of its own: it is part of its evidence (README "Evidence files").
        cacheExchange({ schema: introspection as unknown as IntrospectionQuery, keys: { EvidenceSource: () => null } }),
        fetchExchange,
        subscriptionExchange({ forwardSubscription: forwarder() }),
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await closeTransport?.();
    await stack?.close();
  });

  it("generates, follows generationEvents to SUCCEEDED, reads the IEP, and the cached Generation is SUCCEEDED", async () => {
    const generated = await client.mutation(GENERATE, { studentId }).toPromise();
    expect(generated.error).toBeUndefined();
    expect(generated.data.generateIep.__typename).toBe("GenerateIepSuccess");
    const id = generated.data.generateIep.generation.id as string;
    const watched = await client.query(GENERATION, { id }).toPromise();
    expect(watched.data.generation.status).not.toBe("SUCCEEDED");

    const events: { status: string; stage: string; textDelta: string | null; generation: { id: string; status: string } }[] = [];
    const errors: unknown[] = [];
    const { unsubscribe } = client.subscription(EVENTS, { id }).subscribe((result) => {
      if (result.error) errors.push(result.error);
      if (result.data) events.push(result.data.generationEvents);
    });
    try {
      await waitFor(async () => errors.length > 0 || events.at(-1)?.status === "SUCCEEDED", 30_000, `generation ${id} to stream to SUCCEEDED`);
    } finally {
      unsubscribe();
    }
    expect(errors).toEqual([]);
    expect(events.at(-1)).toMatchObject({ status: "SUCCEEDED", stage: "DONE", generation: { id, status: "SUCCEEDED" } });

    // The Generation the earlier query cached was updated by the stream: read from the cache only.
    const cached = client.readQuery(GENERATION, { id });
    expect(cached?.data?.generation).toMatchObject({ id, status: "SUCCEEDED", stage: "DONE", progress: 1 });

    const iep = await client.query(IEP, { id }).toPromise();
    expect(iep.error).toBeUndefined();
    const sections = iep.data.generation.iep.sections as { id: string; kind: string }[];
    expect(sections.length).toBeGreaterThan(3);
    expect(new Set(sections.map((s) => s.id)).size).toBe(sections.length);
    expect(client.readQuery(IEP, { id })?.data).toEqual(iep.data);
  }, 60_000);

  it("uploads a file: a File in the variables goes as a multipart request (GraphQL multipart request spec)", async () => {
    const bytes = fixture("report.docx");
    const file = new File([new Uint8Array(bytes)], "speech report.docx", { type: "application/octet-stream" });
    const input = { studentId: await createStudentViaApi(stack, { firstName: "Upload" }), kind: "PROGRESS_NOTE", title: "Speech report", file };
    const result = await client.mutation(UPLOAD, { input }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data.addEvidence).toMatchObject({ __typename: "AddEvidenceSuccess", evidence: { status: "PENDING" } });
    const id = result.data.addEvidence.evidence.id;
    const stored = await client.query(SOURCE, { id }).toPromise();
    expect(stored.error).toBeUndefined();
    expect(stored.data.evidence.source).toMatchObject({
      filename: "speech report.docx", mediaType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      byteSize: bytes.byteLength, sha256: createHash("sha256").update(bytes).digest("hex"),
    });
    // Cached as part of its evidence: the same query answers from the cache alone.
    expect(client.readQuery(SOURCE, { id })?.data?.evidence.source).toEqual(stored.data.evidence.source);
  });

  it("sees an error union's message (NotFoundError for an unknown generation)", async () => {
    const unknown = randomUUID();
    const result = await client.mutation(CANCEL, { id: unknown }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data.cancelGeneration).toEqual({
      __typename: "NotFoundError", message: expect.stringContaining(unknown), resourceType: "Generation", resourceId: unknown,
    });
  });
});
