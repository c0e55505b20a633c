/** GraphQL over HTTP and graphql-ws for the benches, plus seeding of students with evidence. */
import { createClient, type Client } from "graphql-ws";
import type pg from "pg";
import WebSocket from "ws";
import { createLogger } from "../../src/logger.ts";
import { addEvidence } from "../../src/services/evidence.ts";
import { createStudent } from "../../src/services/students.ts";
import { waitUntil, type Tenant } from "./stack.ts";

export type Gql = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<T>;

/** POSTs to `graphqlUrl` as `token`; returns `data`, throws on errors. */
export function graphqlClient(graphqlUrl: string, token: string): Gql {
  return async (query, variables = {}) => {
    const response = await fetch(graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: GraphQLError[] };
    if (body.errors?.length) throw new Error(`GraphQL errors: ${body.errors.map(describeError).join("; ")}`);
    return body.data;
  };
}

interface GraphQLError {
  message: string;
  extensions?: { originalError?: { message?: string } };
}

function describeError(error: GraphQLError): string {
  const original = error.extensions?.originalError?.message;
  return original ? `${error.message} (${original})` : error.message;
}

export function wsClient(wsUrl: string, token: string): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
}

export const ENQUEUE = /* GraphQL */ `
  mutation BenchGenerateIep($studentId: ID!) {
    generateIep(input: { studentId: $studentId }, async: true) { __typename ... on GenerateIepSuccess { generation { id } } }
  }
`;

export const ENQUEUE_BATCH = /* GraphQL */ `
  mutation BenchGenerateIeps($studentIds: [ID!]!) {
    generateIeps(input: { studentIds: $studentIds }) { __typename ... on GenerateIepsSuccess { batch { id } } }
  }
`;

export const EVENTS = /* GraphQL */ `
  subscription BenchGenerationEvents($id: ID!) { generationEvents(id: $id, afterSeq: 0) { seq status textDelta } }
`;

/** Queues one generation over HTTP and returns its id (throws on any other payload). */
export async function enqueue(gql: Gql, studentId: string): Promise<string> {
  const data = await gql(ENQUEUE, { studentId });
  const id = data?.generateIep?.generation?.id as string | undefined;
  if (!id) throw new Error(`generateIep did not queue: ${JSON.stringify(data)}`);
  return id;
}

const EVIDENCE = "Oral reading fluency rose from 18 to 44 words correct per minute. Math problem solving standard score 82; working memory index 85.";

/**
 * Creates `count` students in the tenant's school (in this process, through the services), each with
 * one evidence document queued for ingestion; with `ingested`, waits until a worker made them READY.
 */
export async function seedStudents(pool: pg.Pool, tenant: Tenant, count: number, options: { ingested: boolean }): Promise<string[]> {
  const log = createLogger("error", "stderr");
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const student = await createStudent(pool, tenant.viewer, { firstName: "Bench", lastName: `Student${i}`, dateOfBirth: "2015-02-02", grade: "6" });
    if (options.ingested) {
      await addEvidence(pool, tenant.viewer, { studentId: student.id, kind: "PROGRESS_NOTE", title: "Progress", body: EVIDENCE }, { maxChars: 200_000, log });
    }
    ids.push(student.id);
  }
  if (options.ingested) {
    await waitUntil(async () => {
      const { rows } = await pool.query("select count(*)::int as n from evidence where school_id = $1 and status = 'READY'", [tenant.schoolId]);
      return rows[0].n >= count;
    }, 60_000, "evidence to be ingested");
  }
  return ids;
}

export interface TimedEvent {
  seq: number;
  status: string;
  textDelta: string | null;
  /** performance.now() when the client received it. */
  at: number;
}

/** Subscribes to a generation's events (afterSeq 0) over graphql-ws; resolves with every event once it completes. */
export async function collectEvents(client: Client, id: string, onEvent: (event: TimedEvent) => void = () => undefined, timeoutMs = 60_000): Promise<TimedEvent[]> {
  const events: TimedEvent[] = [];
  const iterator = client.iterate<{ generationEvents: Omit<TimedEvent, "at"> }>({ query: EVENTS, variables: { id } });
  const timer = setTimeout(() => void iterator.return?.(), timeoutMs);
  try {
    for await (const result of iterator) {
      const at = performance.now();
      if (result.errors) throw new Error(`subscription errors: ${JSON.stringify(result.errors)}`);
      const event = { ...result.data!.generationEvents, at };
      events.push(event);
      onEvent(event);
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}
