import { signToken, type Viewer } from "../../src/auth.ts";
import { insertSchool, insertUser, type UserRole } from "../../src/db/schools.ts";
import { parseEnv } from "../../src/env.ts";
import type { EvidenceFileLimits } from "../../src/evidence-limits.ts";
import { SIMULATOR_API_KEY } from "../../src/gemini/config.ts";
import { startGeminiSimulator, type GeminiSimulator } from "../../src/gemini/simulator/server.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { startRuntime, type Runtime, type RuntimeConfig } from "../../src/runtime.ts";
import type { SecurityConfig } from "../../src/security.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export const TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";
/** Tests wait 1 s after a Gemini outage (30 s in production) and reset the breaker as fast. */
export const OUTAGE_RETRY_DELAY_MS = 1000;
/** Retries come fast in tests: an outage waits 1 s, a database fault 200 ms, a failed attempt from 200 ms. */
export const TEST_RETRY_TIMINGS = { outageDelayMs: OUTAGE_RETRY_DELAY_MS, databaseDelayMs: 200, backoffBaseMs: 200 };
/**
 * Processes beat every 300 ms and count as dead after 5 s of silence (generous, so a test process
 * on a loaded machine is never presumed dead); jobs are reconciled every 2 s.
 */
export const TEST_RECOVERY_TIMINGS = { heartbeatMs: 300, deadAfterMs: 5000, reconcileMs: 2000 };

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface Tenant {
  schoolId: string;
  userId: string;
  token: string;
}

/** A real iepgen process for one test file: own database, simulator, worker and API on a socket. */
export interface TestStack {
  db: TestDatabase;
  runtime: Runtime;
  simulator: GeminiSimulator;
  httpUrl: string;
  graphqlUrl: string;
  wsUrl: string;
  /** A CASE_MANAGER: the students it creates through the API are on its caseload. */
  tenant: Tenant;
  /** A new school with one user, ADMIN by default (sees the whole school, rows written with SQL included). */
  createTenant(role?: UserRole): Promise<Tenant>;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface StackOptions {
  worker?: boolean;
  latencyMs?: number;
  maxRetries?: number;
  evidenceMaxChars?: number;
  /** Upload and extraction limits, merged over DEFAULT_EVIDENCE_FILE_LIMITS (e.g. a small maxBytes or budget). */
  evidenceFiles?: Partial<EvidenceFileLimits>;
  /** Merged over DEFAULT_SECURITY (e.g. small rate limits). */
  security?: Partial<SecurityConfig>;
  /** The process's logger (default testLogger()): a test may capture its lines. */
  logger?: Logger;
}

export function testLogger() {
  const level = parseEnv().LOG_LEVEL;
  return createLogger(level === "info" ? "silent" : level, "stderr");
}

/** The runtime config every test process uses: the stack's database, its simulator, fast retries. */
function runtimeConfig(databaseUrl: string, simulator: GeminiSimulator, options: StackOptions): RuntimeConfig {
  return {
    databaseUrl,
    poolMax: 10,
    jwtSecret: TEST_JWT_SECRET,
    evidenceMaxChars: options.evidenceMaxChars ?? 200_000,
    evidenceFiles: { extractionThreads: 1, ...options.evidenceFiles },
    production: false,
    logger: options.logger ?? testLogger(),
    gemini: {
      apiKey: SIMULATOR_API_KEY,
      baseUrl: simulator.url,
      model: "gemini-2.5-flash",
      embeddingModel: "gemini-embedding-001",
      timeoutMs: 10_000,
      simulated: true,
      resilience: {
        maxRetries: options.maxRetries ?? 2, baseDelayMs: 20, maxDelayMs: 200,
        breaker: { resetTimeoutMs: OUTAGE_RETRY_DELAY_MS },
      },
    },
    retry: TEST_RETRY_TIMINGS,
    recovery: TEST_RECOVERY_TIMINGS,
    worker: options.worker === false ? undefined : { concurrency: 2, pollIntervalMs: 200, shutdownAbortAfterMs: 500 },
    api: { host: "127.0.0.1", port: 0 },
    security: options.security,
  };
}

/** Another process on a stack's database (API only unless `worker`), as a second replica would be. */
export async function startSecondApi(stack: TestStack, options: Pick<StackOptions, "worker" | "security" | "evidenceFiles"> = {}): Promise<Runtime> {
  return startRuntime(runtimeConfig(stack.db.url, stack.simulator, { ...options, worker: options.worker ?? false }));
}

export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const db = await createTestDatabase();
  const simulator = await startGeminiSimulator({ latencyMs: options.latencyMs ?? 0 });
  const runtime = await startRuntime(runtimeConfig(db.url, simulator, options));
  const httpUrl = runtime.server!.url;
  const graphqlUrl = `${httpUrl}/graphql`;

  const createTenant = async (role: UserRole = "ADMIN"): Promise<Tenant> => {
    const school = await insertSchool(runtime.pool, `Test school ${Math.random().toString(36).slice(2, 8)}`);
    const user = await insertUser(runtime.pool, { schoolId: school.id, email: `cm-${school.id}@example.org`, name: "Test User", role });
    const viewer: Viewer = { userId: user.id, schoolId: school.id, role };
    return { schoolId: school.id, userId: user.id, token: await signToken(viewer, TEST_JWT_SECRET) };
  };
  const tenant = await createTenant("CASE_MANAGER");

  return {
    db, runtime, simulator, httpUrl, graphqlUrl, tenant, createTenant,
    wsUrl: graphqlUrl.replace(/^http/, "ws"),
    async gql(query, variables = {}, token = tenant.token) {
      const response = await fetch(graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, "status">;
      return { status: response.status, ...body };
    },
    async close() {
      await runtime.close();
      await simulator.close();
      await db.drop();
    },
  };
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const CREATE_STUDENT = /* GraphQL */ `
  mutation CreateStudent($input: CreateStudentInput!) {
    createStudent(input: $input) {
      __typename
      ... on CreateStudentSuccess { student { id fullName age grade disabilityCategories primaryLanguage } }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`;

export const ADD_EVIDENCE = /* GraphQL */ `
  mutation AddEvidence($input: AddEvidenceInput!) {
    addEvidence(input: $input) {
      __typename
      ... on AddEvidenceSuccess { evidence { id status title kind } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { message resourceType resourceId }
    }
  }
`;

export const EVIDENCE_STATUS = /* GraphQL */ `
  query EvidenceStatus($id: ID!) { evidence(id: $id) { id status error chunkCount } }
`;

/** Creates a student through the API and returns its id. */
export async function createStudentViaApi(stack: TestStack, input: Record<string, unknown> = {}, token?: string): Promise<string> {
  const result = await stack.gql(CREATE_STUDENT, {
    input: { firstName: "Ada", lastName: "Testcase", dateOfBirth: "2016-04-02", grade: "4", ...input },
  }, token);
  const student = result.data?.createStudent?.student;
  if (!student) throw new Error(`createStudent failed: ${JSON.stringify(result)}`);
  return student.id as string;
}

/** Adds evidence through the API and waits until the worker has ingested it. */
export async function addReadyEvidence(
  stack: TestStack,
  studentId: string,
  doc: { kind?: string; title: string; body: string },
  token?: string,
): Promise<string> {
  const result = await stack.gql(ADD_EVIDENCE, { input: { kind: "PROGRESS_NOTE", studentId, ...doc } }, token);
  const id = result.data?.addEvidence?.evidence?.id as string | undefined;
  if (!id) throw new Error(`addEvidence failed: ${JSON.stringify(result)}`);
  await waitFor(async () => {
    const status = (await stack.gql(EVIDENCE_STATUS, { id }, token)).data?.evidence?.status;
    if (status === "FAILED") throw new Error(`evidence ${id} FAILED`);
    return status === "READY";
  }, 15_000, `evidence ${id} READY`);
  return id;
}
