import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient as createWsClient } from "graphql-ws";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { replaceChunks } from "../src/db/evidence.ts";
import * as evidenceLifecycle from "../src/lifecycle/evidence.ts";
import { createApp } from "../src/yoga.ts";
import { ADD_EVIDENCE, startTestStack, testLogger, waitFor, type GraphQLResponse, type Tenant, type TestStack } from "./helpers/stack.ts";

/** The shape: every level is a field returning rows of another table. */
const CASELOAD = /* GraphQL */ `
  query Caseload($first: Int!) {
    students(first: $first) {
      edges { node { id evidence { id chunks { id ordinal evidence { id student { id } } } } ieps { id } } }
    }
  }
`;

/** student → evidence → student → evidence → student → evidence: the 6 levels. */
const NESTED = /* GraphQL */ `
  query Nested($id: ID!) {
    student(id: $id) { evidence { student { evidence { student { evidence { id title } } } } } }
  }
`;

const GENERATIONS = /* GraphQL */ `
  query Generations($first: Int!) {
    generations(first: $first) {
      edges { node { id student { id } iep { id student { id } generation { id } sections { citations { chunk { id } } } } events { seq } } }
    }
  }
`;

/** Inserts `students` students, each with `evidence` READY documents of `chunks` chunks, in one school. */
async function seedCaseload(pool: pg.Pool, schoolId: string, counts: { students: number; evidence: number; chunks: number }): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into students (school_id, first_name, last_name, date_of_birth, grade)
     select $1, 'Student', 'Number ' || n, date '2015-01-01', '4' from generate_series(1, $2) n returning id`,
    [schoolId, counts.students],
  );
  await pool.query(
    `insert into evidence (school_id, student_id, kind, title, body, status, chunk_count)
     select $1, s.id, 'PROGRESS_NOTE', 'Note ' || e, 'Reads ' || e || '0 words per minute.', 'READY', $3
     from students s, generate_series(1, $2) e where s.school_id = $1`,
    [schoolId, counts.evidence, counts.chunks],
  );
  await pool.query(
    `insert into evidence_chunks (school_id, student_id, evidence_id, ordinal, text, embedding)
     select $1, e.student_id, e.id, c - 1, 'Chunk ' || c, array_fill(0.1::real, array[768])::vector
     from evidence e, generate_series(1, $2) c where e.school_id = $1`,
    [schoolId, counts.chunks],
  );
  return rows.map((row) => row.id);
}

/** One SUCCEEDED generation per student, with its IEP (citing `citedChunkId`) and three events. */
async function seedGenerations(pool: pg.Pool, schoolId: string, studentIds: string[], citedChunkId: string): Promise<void> {
  const content = JSON.stringify({ presentLevels: { statements: [{ text: "Reads fluently.", citations: [citedChunkId] }] } });
  await pool.query(
    `with g as (
       insert into generations (school_id, student_id, kind, status, stage, progress, max_attempts, academic_year, last_seq)
       select $1, s, 'FULL_IEP', 'SUCCEEDED', 'done', 1, 3, '2026-2027', 3 from unnest($2::uuid[]) s returning id, student_id
     ), i as (
       insert into ieps (school_id, student_id, academic_year, version, content, model, generation_id)
       select $1, g.student_id, '2026-2027', 1, $3::jsonb, 'simulator', g.id from g returning id, generation_id
     )
     insert into generation_events (generation_id, seq, school_id, status, progress, stage)
     select g.id, seq, $1, 'SUCCEEDED', 1, 'done' from g, generate_series(1, 3) seq`,
    [schoolId, studentIds, content],
  );
  await pool.query("update generations g set iep_id = i.id from ieps i where i.generation_id = g.id and g.school_id = $1", [schoolId]);
}

describe("batched loading", () => {
  let stack: TestStack;
  let large: Tenant;
  let small: Tenant;
  let server: Server;
  let url: string;
  const ids = { large: [] as string[], small: [] as string[] };

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    large = await stack.createTenant();
    small = await stack.createTenant();
    ids.large = await seedCaseload(stack.runtime.pool, large.schoolId, { students: 100, evidence: 3, chunks: 2 });
    ids.small = await seedCaseload(stack.runtime.pool, small.schoolId, { students: 10, evidence: 3, chunks: 2 });
    const { rows } = await stack.runtime.pool.query("select id from evidence_chunks where school_id = $1 limit 1", [large.schoolId]);
    const largeChunk = rows[0].id as string;
    await seedGenerations(stack.runtime.pool, large.schoolId, ids.large, largeChunk);
    await seedGenerations(stack.runtime.pool, small.schoolId, ids.small, largeChunk);
    // The caseload query is deliberately heavier than the default cost limit allows: this file measures loading, not limits.
    const deps = stack.runtime.deps;
    const app = createApp({ ...deps, security: { ...deps.security, requestLimits: { ...deps.security.requestLimits, maxCost: 10_000_000 } } },
      { health: stack.runtime.health, production: false });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
  });

  /** Runs one request and returns its response with the SQL statements it sent on the API pool. */
  async function countQueries(tenant: Tenant, query: string, variables: Record<string, unknown>) {
    const statements: string[] = [];
    const pool = stack.runtime.pool;
    const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    const spy = vi.spyOn(pool, "query").mockImplementation(((...args: unknown[]) => {
      const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string }).text ?? "";
      if (!/worker_heartbeats/.test(text)) statements.push(text.replace(/\s+/g, " ").slice(0, 90));
      return original(...args);
    }) as typeof pool.query);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tenant.token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphQLResponse;
      expect(body.errors).toBeUndefined();
      return { data: body.data, statements };
    } finally {
      spy.mockRestore();
    }
  }

  it("loads 100 students with their evidence, chunks, back-references and IEPs in as many queries as 10 students", async () => {
    const hundred = await countQueries(large, CASELOAD, { first: 100 });
    const ten = await countQueries(small, CASELOAD, { first: 10 });
    console.log(`100 students: ${hundred.statements.length} queries; 10 students: ${ten.statements.length} queries\n  ${hundred.statements.join("\n  ")}`);
    expect(hundred.statements.length).toBe(ten.statements.length);
    expect(hundred.statements.length).toBeLessThanOrEqual(8);

    const students = hundred.data.students.edges.map((edge: any) => edge.node);
    expect(students.map((s: any) => s.id).sort()).toEqual([...ids.large].sort());
    for (const student of students) {
      expect(student.evidence).toHaveLength(3);
      expect(student.ieps).toHaveLength(1);
      for (const evidence of student.evidence) {
        expect(evidence.chunks.map((c: any) => c.ordinal)).toEqual([0, 1]);
        for (const chunk of evidence.chunks) expect(chunk.evidence).toEqual({ id: evidence.id, student: { id: student.id } });
      }
    }
  });

  it("answers the issue's 6-level student → evidence nesting in a constant number of queries", async () => {
    const { data, statements } = await countQueries(large, NESTED, { id: ids.large[0] });
    console.log(`6 levels: ${statements.length} queries`);
    expect(data.student.evidence).toHaveLength(3);
    expect(data.student.evidence[0].student.evidence[0].student.evidence).toHaveLength(3);
    expect(statements.length).toBeLessThanOrEqual(8);
  });

  it("loads generations with their students, IEPs, citations and events in as many queries for 100 as for 10", async () => {
    const hundred = await countQueries(large, GENERATIONS, { first: 100 });
    const ten = await countQueries(small, GENERATIONS, { first: 10 });
    console.log(`100 generations: ${hundred.statements.length} queries; 10 generations: ${ten.statements.length} queries`);
    expect(hundred.statements.length).toBe(ten.statements.length);
    expect(hundred.statements.length).toBeLessThanOrEqual(8);
    const generations = hundred.data.generations.edges.map((edge: any) => edge.node);
    expect(generations).toHaveLength(100);
    for (const generation of generations) {
      expect(generation.iep).toMatchObject({ student: generation.student, generation: { id: generation.id } });
      expect(generation.events.map((e: any) => e.seq)).toEqual([1, 2, 3]);
      expect(generation.iep.sections[0].citations[0].chunk).not.toBeNull();
    }
  });

  it("keeps every batch in the caller's school: another school's chunk cited by an IEP loads as null", async () => {
    const { data } = await countQueries(small, GENERATIONS, { first: 10 });
    const generations = data.generations.edges.map((edge: any) => edge.node);
    expect(generations.map((g: any) => g.student.id).sort()).toEqual([...ids.small].sort());
    for (const generation of generations) expect(generation.iep.sections[0].citations[0].chunk).toBeNull();
  });

  it("reads fresh rows for every subscription event (loaders are cleared between events)", async () => {
    const studentId = ids.small[0]!;
    const added = await stack.gql(ADD_EVIDENCE, { input: { studentId, kind: "OTHER", title: "Fresh", body: "Counts to 100 by fives." } }, small.token);
    const evidenceId = added.data.addEvidence.evidence.id as string;
    const client = createWsClient({ url: stack.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${small.token}` } });
    const events: { status: string; chunkCount: number; chunks: { ordinal: number }[] }[] = [];
    const unsubscribe = client.subscribe<{ evidenceStatusChanged: (typeof events)[number] & { id: string } }>({
      query: `subscription($s: ID!) { evidenceStatusChanged(studentId: $s) { id status chunkCount chunks { ordinal } student { id } } }`,
      variables: { s: studentId },
    }, { next: (result) => void (result.data && events.push(result.data.evidenceStatusChanged)), error: () => undefined, complete: () => undefined });
    try {
      const lifecycle = { db: stack.runtime.pool, log: testLogger() };
      // Each requeue NOTIFYs a PENDING event; repeat until the subscription has seen one (and cached that row).
      await waitFor(async () => {
        await evidenceLifecycle.requeue(lifecycle, evidenceId, "waiting", true);
        return events.length > 0;
      }, 10_000, "the first PENDING event");
      expect(events[0]).toMatchObject({ status: "PENDING", chunkCount: 0, chunks: [] });
      await replaceChunks(stack.runtime.pool, { id: evidenceId, school_id: small.schoolId, student_id: studentId },
        [0, 1, 2].map((i) => ({ text: `Part ${i}`, page: null, embedding: new Array(768).fill(0.1) })));
      await evidenceLifecycle.succeed(lifecycle, evidenceId, 3);
      const ready = await waitFor(async () => events.find((event) => event.status === "READY"), 10_000, "the READY event");
      expect(ready).toMatchObject({ chunkCount: 3, chunks: [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }] });
    } finally {
      unsubscribe();
      await client.dispose();
    }
  });
});
