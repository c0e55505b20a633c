import { randomUUID } from "node:crypto";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import possibleTypes from "../../web/src/gql/possible-types.ts";
import { studentWithEvidence } from "../helpers/generation.ts";
import { createStudentViaApi, startTestStack, waitFor, type TestStack } from "../helpers/stack.ts";
import { fixture } from "../helpers/uploads.ts";

/**
 * Apollo Client 4 as a frontend would set it up, against a real running server: HttpLink for
 * queries and mutations split with GraphQLWsLink (graphql-ws) for subscriptions, and an
 * InMemoryCache given the generated possibleTypes and nothing else (no typePolicies).
 */

const GENERATE = gql`
  mutation ClientsApolloGenerate($studentId: ID!) {
    generateIep(input: { studentId: $studentId }) {
      __typename
      ... on GenerateIepSuccess { generation { id status stage progress } }
      ... on Error { message }
    }
  }
`;

const GENERATION = gql`
  query ClientsApolloGeneration($id: ID!) {
    generation(id: $id) { id status stage progress lastSeq }
  }
`;

const EVENTS = gql`
  subscription ClientsApolloEvents($id: ID!) {
    generationEvents(id: $id) { seq status stage progress textDelta generation { id status stage progress lastSeq } }
  }
`;

const IEP = gql`
  query ClientsApolloIep($id: ID!) {
    generation(id: $id) {
      id status
      iep { id version status sections { id kind label content citations { chunkId } } }
    }
  }
`;

const CANCEL = gql`
  mutation ClientsApolloCancel($id: ID!) {
    cancelGeneration(id: $id) {
      __typename
      ... on CancelGenerationSuccess { generation { id status } }
      ... on Error { message }
      ... on NotFoundError { resourceType resourceId }
    }
  }
`;

const BATCH = gql`
  mutation ClientsApolloBatch($studentIds: [ID!]!) {
    generateIeps(input: { studentIds: $studentIds }) {
      __typename
      ... on GenerateIepsSuccess { batch { id progress { id total queued done } } }
      ... on Error { message }
    }
  }
`;

const BATCH_PROGRESS = gql`
  subscription ClientsApolloBatchProgress($id: ID!) {
    batchProgress(id: $id) { id total queued running succeeded done }
  }
`;

const UPLOAD = gql`
  mutation ClientsApolloUpload($input: AddEvidenceInput!) {
    addEvidence(input: $input) {
      __typename
      ... on AddEvidenceSuccess { evidence { id status source { filename mediaType byteSize } } }
      ... on Error { message }
    }
  }
`;

const EVIDENCE = gql`
  query ClientsApolloEvidence($id: ID!) {
    evidence(id: $id) { id status pageCount chunks { id page text } }
  }
`;

interface Streamed { seq: number; status: string; stage: string; textDelta: string | null; generation: { id: string; status: string } }

describe("Apollo Client 4 against a running server (HttpLink + GraphQLWsLink, generated possibleTypes)", () => {
  let stack: TestStack;
  let ws: WsClient;
  let studentId: string;

  const apollo = (options: { possibleTypes?: Record<string, string[]> } = {}) => {
    const http = new HttpLink({ uri: stack.graphqlUrl, headers: { authorization: `Bearer ${stack.tenant.token}` } });
    const link = ApolloLink.split(({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    }, new GraphQLWsLink(ws), http);
    return new ApolloClient({ link, cache: new InMemoryCache({ possibleTypes: options.possibleTypes }) });
  };

  /** Apollo with apollo-upload-client's UploadHttpLink: a File in the variables goes as a multipart request. */
  const uploadingApollo = () => new ApolloClient({
    link: new UploadHttpLink({ uri: stack.graphqlUrl, headers: { authorization: `Bearer ${stack.tenant.token}` } }),
    cache: new InMemoryCache({ possibleTypes: possibleTypes.possibleTypes }),
  });

  /** Every result of a subscription until the server completes it. */
  const follow = <T,>(client: ApolloClient, query: typeof EVENTS, variables: Record<string, unknown>) =>
    new Promise<T[]>((resolve, reject) => {
      const results: T[] = [];
      client.subscribe<T>({ query, variables }).subscribe({
        next: (result) => (result.error ? reject(result.error) : results.push(result.data as T)),
        error: reject,
        complete: () => resolve(results),
      });
    });

  /** Counts the API's reads of generation rows by id (the Generation dataloader's statement). */
  const countGenerationRowReads = () => {
    const pool = stack.runtime.pool;
    const query = pool.query.bind(pool);
    const counter = { count: 0, stop: () => spy.mockRestore() };
    const spy = vi.spyOn(pool, "query").mockImplementation(((text: unknown, values?: unknown[]) => {
      if (typeof text === "string" && /from generations where school_id = \$1 and id = any/.test(text)) counter.count += 1;
      return query(text as string, values);
    }) as typeof pool.query);
    return counter;
  };

  beforeAll(async () => {
    stack = await startTestStack({ latencyMs: 100 }); // a generation takes long enough to be seen QUEUED or RUNNING first
    ws = createWsClient({
      url: stack.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true,
      connectionParams: { authorization: `Bearer ${stack.tenant.token}` },
    });
    studentId = await studentWithEvidence(stack);
  }, 60_000);
  afterAll(async () => {
    await ws?.dispose();
    await stack?.close();
  });

  it("generates, follows generationEvents to SUCCEEDED, and the cached Generation is SUCCEEDED afterwards", async () => {
    const client = apollo({ possibleTypes: possibleTypes.possibleTypes });
    const generated = await client.mutate({ mutation: GENERATE, variables: { studentId } });
    const payload = generated.data as { generateIep: { __typename: string; generation: { id: string; status: string } } };
    expect(payload.generateIep.__typename).toBe("GenerateIepSuccess");
    const id = payload.generateIep.generation.id;
    const before = await client.query({ query: GENERATION, variables: { id } });
    expect((before.data as { generation: { status: string } }).generation.status).not.toBe("SUCCEEDED");

    const rowReads = countGenerationRowReads();
    const events = await follow<{ generationEvents: Streamed }>(client, EVENTS, { id });
    rowReads.stop();
    // generation { … } on every event costs no read per event: the row once more at the terminal event, at most.
    expect(events.length).toBeGreaterThan(5);
    expect(rowReads.count).toBeLessThanOrEqual(1);
    const last = events.at(-1)!.generationEvents;
    expect(last).toMatchObject({ status: "SUCCEEDED", stage: "DONE", generation: { id, status: "SUCCEEDED" } });

    // The cache's Generation moved with the stream: no refetch, no typePolicies.
    const cached = client.cache.readFragment<{ status: string; stage: string; progress: number; lastSeq: number }>({
      id: client.cache.identify({ __typename: "Generation", id }),
      fragment: gql`fragment ClientsApolloGenerationState on Generation { status stage progress lastSeq }`,
    });
    expect(cached).toMatchObject({ status: "SUCCEEDED", stage: "DONE", progress: 1, lastSeq: last.seq });
    const query = client.readQuery<{ generation: { status: string } }>({ query: GENERATION, variables: { id } });
    expect(query?.generation.status).toBe("SUCCEEDED");

    const iep = await client.query({ query: IEP, variables: { id } });
    const generation = (iep.data as { generation: { iep: { id: string; sections: { id: string; kind: string; content: unknown }[] } } }).generation;
    expect(generation.iep.sections.length).toBeGreaterThan(3);
    expect(new Set(generation.iep.sections.map((s) => s.id)).size).toBe(generation.iep.sections.length);
    // Sections have ids: re-reading the query from the cache gives them all back, whole.
    const again = client.readQuery<typeof iep.data>({ query: IEP, variables: { id } });
    expect(again).toEqual(iep.data);
    client.stop();
  }, 60_000);

  it("replays a finished generation's events each with the generation as of that event, not as it is now", async () => {
    const client = apollo({ possibleTypes: possibleTypes.possibleTypes });
    const generated = await client.mutate({ mutation: GENERATE, variables: { studentId } });
    const id = (generated.data as { generateIep: { generation: { id: string } } }).generateIep.generation.id;
    await follow(client, EVENTS, { id });
    client.stop();
    const replayed: Streamed[] = [];
    for await (const result of ws.iterate<{ generationEvents: Streamed & { seq: number; generation: { lastSeq: number; stage: string } } }>({
      query: "subscription ClientsApolloReplay($id: ID!) { generationEvents(id: $id) { seq status stage textDelta generation { id status stage lastSeq } } }",
      variables: { id },
    })) replayed.push(result.data!.generationEvents);
    expect(replayed.length).toBeGreaterThan(3);
    expect(replayed[0]).toMatchObject({ status: "QUEUED", generation: { status: "QUEUED" } });
    for (const event of replayed as (Streamed & { generation: { stage: string; lastSeq: number } })[]) {
      expect(event.generation).toMatchObject({ id, status: event.status, stage: event.stage, lastSeq: event.seq });
    }
  }, 60_000);

  it("sees an error union's message with the generated possibleTypes (and loses it without them)", async () => {
    const unknown = randomUUID();
    const withMap = await apollo({ possibleTypes: possibleTypes.possibleTypes }).mutate({ mutation: CANCEL, variables: { id: unknown } });
    expect((withMap.data as { cancelGeneration: unknown }).cancelGeneration).toEqual({
      __typename: "NotFoundError", message: expect.stringContaining(unknown), resourceType: "Generation", resourceId: unknown,
    });
    const withoutMap = await apollo().mutate({ mutation: CANCEL, variables: { id: unknown } });
    expect((withoutMap.data as { cancelGeneration: Record<string, unknown> }).cancelGeneration.message).toBeUndefined();
  });

  it("keeps one BatchProgress per batch: the batch's cached progress reads done once the stream ends", async () => {
    const client = apollo({ possibleTypes: possibleTypes.possibleTypes });
    const queued = await client.mutate({ mutation: BATCH, variables: { studentIds: [studentId] } });
    const batch = (queued.data as { generateIeps: { batch: { id: string; progress: { done: boolean } } } }).generateIeps.batch;
    expect(batch.progress.done).toBe(false);
    const updates = await follow<{ batchProgress: { done: boolean; succeeded: number } }>(client, BATCH_PROGRESS, { id: batch.id });
    expect(updates.at(-1)?.batchProgress).toMatchObject({ done: true, succeeded: 1 });
    const cached = client.cache.readFragment<{ progress: { total: number; queued: number; done: boolean } }>({
      id: client.cache.identify({ __typename: "GenerationBatch", id: batch.id }),
      fragment: gql`fragment ClientsApolloBatchState on GenerationBatch { progress { id total queued done } }`,
    });
    expect(cached?.progress).toEqual({ __typename: "BatchProgress", id: batch.id, total: 1, queued: 0, done: true });
    client.stop();
  }, 60_000);

  it("uploads a PDF with apollo-upload-client (GraphQL multipart request spec) and reads it back READY, page by page", async () => {
    const client = uploadingApollo();
    const upload = new File([new Uint8Array(fixture("text.pdf"))], "evaluation.pdf", { type: "application/pdf" });
    const input = { studentId: await createStudentViaApi(stack, { firstName: "Apollo" }), kind: "EVALUATION", title: "Evaluation", file: upload };
    const added = await client.mutate({ mutation: UPLOAD, variables: { input } });
    const payload = (added.data as { addEvidence: { __typename: string; evidence: { id: string; source: unknown } } }).addEvidence;
    expect(payload).toMatchObject({ __typename: "AddEvidenceSuccess", evidence: { source: { filename: "evaluation.pdf", mediaType: "application/pdf" } } });
    const ready = await waitFor(async () => {
      const { data } = await client.query({ query: EVIDENCE, variables: { id: payload.evidence.id }, fetchPolicy: "network-only" });
      const evidence = (data as { evidence: { status: string; pageCount: number; chunks: { page: number }[] } }).evidence;
      return evidence.status === "READY" && evidence;
    }, 30_000, "the uploaded PDF to be READY");
    expect(ready.pageCount).toBe(3);
    expect(ready.chunks.map((c) => c.page)).toEqual([1, 2, 3]);
    client.stop();
  }, 60_000);
});
