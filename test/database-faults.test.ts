/**
 * Database faults, end to end: connections terminated under running drafts, the API's LISTEN
 * connection dropped under an open subscription, and a real Postgres restart under a worker
 * process. A database fault is `unavailable` (src/jobs/failure.ts): the run goes back to QUEUED
 * (stage WAITING_FOR_DATABASE, or INTERRUPTED when graphile-worker is restarted under it) without
 * using an attempt, so every draft ends SUCCEEDED with attempts 1 and exactly one IEP.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Client as WsClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../src/auth.ts";
import { lockIepVersions } from "../src/db/ieps.ts";
import { insertSchool, insertUser, type UserRole } from "../src/db/schools.ts";
import { prepareDatabase } from "../src/db/setup.ts";
import { SIMULATOR_API_KEY } from "../src/gemini/config.ts";
import { startGeminiSimulator, type GeminiSimulator } from "../src/gemini/simulator/server.ts";
import { defaultAcademicYear } from "../src/iep/rules.ts";
import { startRuntime, type Runtime } from "../src/runtime.ts";
import { adminQuery, queryDatabase } from "./helpers/database.ts";
import { GENERATION, generate, storedEvents, studentWithEvidence, watchGenerationEvents, wsClient } from "./helpers/generation.ts";
import {
  OUTAGE_RETRY_DELAY_MS,
  startTestStack,
  TEST_JWT_SECRET,
  TEST_RECOVERY_TIMINGS,
  TEST_RETRY_TIMINGS,
  testLogger,
  waitFor,
  type GraphQLResponse,
  type Tenant,
  type TestStack,
} from "./helpers/stack.ts";
import { startWorkerProcess, type WorkerProcess } from "./helpers/worker-process.ts";
import { freePort } from "./helpers/process.ts";

const run = promisify(execFile);

/** Stages a QUEUED generation may show after a database fault: both give the attempt back. */
const REFUNDED_WAITS = ["WAITING_FOR_DATABASE", "INTERRUPTED"];

interface EventView {
  seq: number;
  status: string;
  stage: string;
  message: string | null;
}

interface GenerationView {
  id: string;
  status: string;
  attempts: number;
  error: string | null;
  lastSeq: number;
  events: EventView[];
  iep: { id: string } | null;
}

async function view(stack: Pick<TestStack, "gql">, id: string): Promise<GenerationView | undefined> {
  return (await stack.gql(GENERATION, { id }).catch(() => undefined))?.data?.generation ?? undefined;
}

/** Waits until every generation is terminal; returns their views in the order given. */
async function waitAllTerminal(stack: Pick<TestStack, "gql">, ids: string[], timeoutMs: number): Promise<GenerationView[]> {
  return waitFor(async () => {
    const views = await Promise.all(ids.map((id) => view(stack, id)));
    return views.every((v) => v && ["SUCCEEDED", "FAILED", "CANCELLED"].includes(v.status)) ? (views as GenerationView[]) : undefined;
  }, timeoutMs, `${ids.length} generations to finish`);
}

async function iepCount(databaseUrl: string, generationId: string): Promise<number> {
  const rows = await queryDatabase<{ n: number }>(databaseUrl, "select count(*)::int as n from ieps where generation_id = $1", [generationId]);
  return rows[0]!.n;
}

/**
 * A generation that went through database faults: SUCCEEDED, attempts 1, one IEP; its events
 * are seq 1..n, and any detour back to QUEUED is a refunded wait (never FAILED, never a retry
 * that counts, never RECOVERED, which means its worker was presumed dead).
 */
async function expectSucceededWithoutUsingAttempts(databaseUrl: string, generation: GenerationView): Promise<void> {
  const context = `generation ${generation.id}: ${JSON.stringify(generation.events.map((e) => `${e.seq}:${e.status}/${e.stage}`))}`;
  expect(generation, context).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null, iep: { id: expect.any(String) } });
  expect(await iepCount(databaseUrl, generation.id), context).toBe(1);
  expect(generation.events.map((e) => e.seq), context).toEqual(Array.from({ length: generation.lastSeq }, (_, i) => i + 1));
  expect(generation.events[0], context).toMatchObject({ status: "QUEUED", stage: "QUEUED" });
  expect(generation.events.at(-1), context).toMatchObject({ status: "SUCCEEDED", stage: "DONE" });
  for (const event of generation.events.slice(1, -1)) {
    expect(["QUEUED", "RUNNING"], context).toContain(event.status);
    if (event.status === "QUEUED") expect(REFUNDED_WAITS, context).toContain(event.stage);
  }
}

/** The stages the generations went through on their way back to QUEUED, counted (for the log line). */
function detours(generations: GenerationView[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const g of generations) {
    for (const e of g.events.slice(1)) if (e.status === "QUEUED") counts[e.stage] = (counts[e.stage] ?? 0) + 1;
  }
  return counts;
}

/** Terminates client backends connected to `database`: all but `spare`, or only one application's. */
async function terminateBackends(database: string, only: { spare?: number; applicationName?: string } = {}): Promise<{ pid: number; application_name: string }[]> {
  // The targets are chosen first (materialized): in a plain WHERE, Postgres may call
  // pg_terminate_backend before the other conditions and end every backend on the server.
  return adminQuery<{ pid: number; application_name: string }>(
    `with targets as materialized (
       select pid, application_name from pg_stat_activity
       where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()
         and pid is distinct from $2::int and ($3::text is null or application_name = $3)
     )
     select pid, application_name from targets where pg_terminate_backend(pid)`,
    [database, only.spare ?? null, only.applicationName ?? null],
  );
}

async function listenBackends(database: string): Promise<{ pid: number; backend_start: Date }[]> {
  return adminQuery<{ pid: number; backend_start: Date }>(
    "select pid, backend_start from pg_stat_activity where datname = $1 and application_name = 'iepgen-listen'",
    [database],
  );
}

async function getJson(url: string): Promise<{ status: number; body: any } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.json() };
  } catch {
    return undefined;
  }
}

describe("database faults: API in this process, worker in another", () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let studentId: string;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
    worker = await startWorkerProcess(stack.db.url, stack.simulator.url, { WORKER_CONCURRENCY: "6", LOG_LEVEL: "info" });
    studentId = await studentWithEvidence(stack);
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await worker?.stop();
    await stack?.close();
  }, 30_000);

  it("terminating every connection to the database in 3 waves under 6 running drafts: both processes stay up, each draft succeeds once, no attempt used", async () => {
    // Most of a draft is spent waiting on Gemini with no query in flight, so a wave would mostly
    // hit idle connections. To be sure every wave also kills writes in flight, this admin
    // connection (the one connection spared) holds the six generation rows: the drafts' progress
    // writes, then their requeue writes (retried by untilDatabaseAnswers), block on it and are
    // terminated mid-query. It lets go after the third wave.
    const admin = new pg.Client({ connectionString: stack.db.url });
    await admin.connect();
    const adminPid = (await admin.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
    const blockedWrites = async () => (await adminQuery<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and pid <> $2",
      [stack.db.name, adminPid]))[0]!.n;
    stack.simulator.setLatencyMs(1500);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await generate(stack, { studentId })).id);
      // Mid-draft: all six started, most of them waiting on their (slow) Gemini stream.
      await waitFor(async () => {
        const views = await Promise.all(ids.map((id) => view(stack, id)));
        return views.every((v) => v?.status === "RUNNING") && views.filter((v) => v?.events.at(-1)?.stage === "DRAFTING").length >= 4;
      }, 30_000, "six drafts running, at least four of them drafting");
      await waitFor(async () => (await listenBackends(stack.db.name)).length === 2, 10_000, "both processes to LISTEN");
      await admin.query("begin");
      await admin.query("select id from generations where id = any($1::uuid[]) for update", [ids]);

      const started = performance.now();
      const waves: { connections: number; listen: number; blocked: number }[] = [];
      for (let wave = 0; wave < 3; wave++) {
        if (wave > 0) await new Promise((resolve) => setTimeout(resolve, 1000)); // the fault's own schedule
        const blocked = await waitFor(async () => {
          const n = await blockedWrites();
          return n >= 4 ? n : undefined;
        }, 20_000, `at least four drafts blocked in a write before wave ${wave + 1}`);
        const killed = await terminateBackends(stack.db.name, { spare: adminPid });
        waves.push({ connections: killed.length, listen: killed.filter((r) => r.application_name === "iepgen-listen").length, blocked });
      }
      await admin.query("commit");
      // The first wave hit both processes' pools and both LISTEN connections.
      expect(waves[0]!.listen).toBe(2);
      expect(waves[0]!.connections).toBeGreaterThan(2 + 4);

      const generations = await waitAllTerminal(stack, ids, 60_000);
      const elapsed = performance.now() - started;
      for (const generation of generations) await expectSucceededWithoutUsingAttempts(stack.db.url, generation);
      // The drafts whose writes were killed went back to QUEUED, in a refunded wait.
      const detoured = generations.filter((g) => g.events.some((e) => e.status === "QUEUED" && e.seq > 1));
      expect(detoured.length).toBeGreaterThanOrEqual(4);

      // Both processes are still up and healthy: the worker process never exited, this (API)
      // process answers GraphQL and /healthz, and the worker keeps beating.
      expect(worker.hasExited(), worker.output()).toBe(false);
      const health = await waitFor(async () => {
        const report = await getJson(`${stack.httpUrl}/healthz`);
        return report?.status === 200 ? report.body : undefined;
      }, 10_000, "the API's /healthz to say ok");
      expect(health).toMatchObject({ ok: true, database: "up" });
      await waitFor(async () => {
        const rows = await queryDatabase<{ fresh: boolean }>(stack.db.url,
          "select last_seen_at > now() - interval '1 second' as fresh from worker_heartbeats where pid = $1 and cardinality(worker_ids) > 0",
          [worker.child.pid]);
        return rows[0]?.fresh;
      }, 10_000, "the worker process to keep beating");
      expect(worker.output()).not.toMatch(/unhandled promise rejection/);
      console.info(`[database-faults] termination waves killed ${JSON.stringify(waves.map((w) => w.connections))} connections `
        + `(${JSON.stringify(waves.map((w) => w.blocked))} of them blocked writes); all 6 SUCCEEDED ${(elapsed / 1000).toFixed(1)} s after the first wave; `
        + `detours back to QUEUED: ${JSON.stringify(detours(generations))}; worker restarts logged: ${(worker.output().match(/graphile-worker restarted/g) ?? []).length}`);
    } catch (error) {
      console.error(`[database-faults] worker process output:\n${worker.output().slice(-20_000)}`);
      throw error;
    } finally {
      await admin.end().catch(() => undefined);
      stack.simulator.setLatencyMs(0);
    }
  }, 120_000);

  it("a subscription whose API process loses its LISTEN connection still gets the terminal event and completes", async () => {
    const academicYear = defaultAcademicYear(new Date());
    // The draft's save waits on the lock that orders IEP versions, held here: the run stores
    // VALIDATING and SAVING, then blocks before SUCCEEDED until this transaction ends.
    const admin = new pg.Client({ connectionString: stack.db.url });
    await admin.connect();
    try {
      await admin.query("begin");
      await lockIepVersions(admin, studentId, academicYear);
      const generation = await generate(stack, { studentId, academicYear });
      const client = wsClient(stack);
      clients.push(client);
      const subscription = watchGenerationEvents(client, generation.id);

      await waitFor(async () => {
        const waiting = await queryDatabase<{ pid: number }>(stack.db.url,
          "select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and wait_event = 'advisory'", [stack.db.name]);
        return waiting.length > 0 && storedEvents(subscription.events).some((e) => e.stage === "SAVING");
      }, 20_000, "the draft to block in its save, with SAVING delivered to the subscriber");
      expect(storedEvents(subscription.events).at(-1)).toMatchObject({ status: "RUNNING", stage: "SAVING" });

      // Drop the LISTEN connections (this API process's and the worker process's), then let the
      // draft finish at once: SUCCEEDED is committed while the API's LISTEN is reconnecting
      // (it waits 250 ms before trying), so its NOTIFY never reaches this process.
      const before = await waitFor(async () => {
        const rows = await listenBackends(stack.db.name);
        return rows.length === 2 ? rows : undefined;
      }, 10_000, "two LISTEN connections (API and worker process)");
      const killed = await terminateBackends(stack.db.name, { applicationName: "iepgen-listen" });
      expect(killed.map((r) => r.pid).sort()).toEqual(before.map((r) => r.pid).sort());
      await waitFor(async () => {
        const rows = await listenBackends(stack.db.name);
        return !rows.some((r) => before.some((b) => b.pid === r.pid));
      }, 10_000, "the terminated LISTEN backends to be gone");
      await admin.query("commit");
      const released = performance.now();

      const { timedOut, completedAt } = await subscription.done;
      const completedMs = completedAt - released;
      expect(timedOut).toBe(false);
      const stored = storedEvents(subscription.events);
      expect(stored.at(-1)).toMatchObject({ status: "SUCCEEDED", stage: "DONE", progress: 1 });
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      const dbSeqs = await queryDatabase<{ seq: number }>(stack.db.url, "select seq from generation_events where generation_id = $1 order by seq", [generation.id]);
      expect(stored.map((e) => e.seq)).toEqual(dbSeqs.map((r) => r.seq));
      // Delivered by the resync on reconnect, not the 10 s safety re-read: well within 15 s.
      expect(completedMs).toBeLessThan(5000);
      expect(await iepCount(stack.db.url, generation.id)).toBe(1);

      // The LISTEN connections come back; whether the terminal NOTIFY was really lost is logged.
      const after = await waitFor(async () => {
        const rows = await listenBackends(stack.db.name);
        return rows.length === 2 ? rows : undefined;
      }, 10_000, "both LISTEN connections to come back");
      const [finished] = await queryDatabase<{ finished_at: Date }>(stack.db.url, "select finished_at from generations where id = $1", [generation.id]);
      const firstBack = Math.min(...after.map((r) => r.backend_start.getTime()));
      console.info(`[database-faults] LISTEN dropped: subscription completed ${completedMs.toFixed(0)} ms after the draft was released; `
        + `SUCCEEDED committed ${firstBack - finished!.finished_at.getTime()} ms before the first LISTEN connection was back`);
      expect(worker.hasExited()).toBe(false);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }, 60_000);
});

/**
 * A private Postgres cluster in a temp dir (same major version as the server the other tests use,
 * so pgvector is installed for it), stopped with `pg_ctl stop -m fast` and started again.
 */
interface PrivateCluster {
  port: number;
  url(database: string): string;
  start(): Promise<void>;
  stop(mode: "fast" | "immediate"): Promise<void>;
  log(): Promise<string>;
  remove(): Promise<void>;
}

async function createPrivateCluster(): Promise<PrivateCluster> {
  const [server] = await adminQuery<{ version: string }>("select current_setting('server_version_num') as version");
  const version = server!.version;
  const binDir = `/usr/lib/postgresql/${Math.floor(Number(version) / 10_000)}/bin`;
  if (!existsSync(join(binDir, "pg_ctl"))) throw new Error(`no pg_ctl in ${binDir}: install the server package of the running Postgres`);
  const dir = mkdtempSync(join(tmpdir(), "iepgen-pg-"));
  const dataDir = join(dir, "data");
  // Postgres refuses to run as root: as root, run its tools as the postgres user, owner of the dir.
  const asRoot = process.getuid?.() === 0;
  // Run from the cluster's dir: the postgres user may not be allowed into the repo's.
  const tool = (name: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(binDir, name), ...args], { cwd: dir }) : run(join(binDir, name), args, { cwd: dir });
  const port = await freePort();
  let running = false;
  const stopSync = () => {
    // Last resort if the test process exits without afterAll (never leave a server running).
    if (running) {
      try {
        const stop = [join(binDir, "pg_ctl"), "-D", dataDir, "-m", "immediate", "stop"];
        if (asRoot) execFileSync("runuser", ["-u", "postgres", "--", ...stop], { cwd: dir });
        else execFileSync(stop[0]!, stop.slice(1), { cwd: dir });
      } catch { /* already stopped */ }
    }
  };
  process.once("exit", stopSync);
  try {
    if (asRoot) await run("chown", ["postgres:postgres", dir]);
    await tool("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  } catch (error) {
    process.off("exit", stopSync);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const cluster: PrivateCluster = {
    port,
    url: (database) => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      running = true;
      await tool("pg_ctl", ["-D", dataDir, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
    },
    async stop(mode) {
      await tool("pg_ctl", ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]);
      running = false;
    },
    log: async () => {
      try {
        return readFileSync(join(dir, "log"), "utf8");
      } catch {
        return "";
      }
    },
    async remove() {
      if (running) await cluster.stop("immediate").catch(() => undefined);
      process.off("exit", stopSync);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

describe("database faults: a real Postgres restart", () => {
  let cluster: PrivateCluster | undefined;
  let simulator: GeminiSimulator | undefined;
  let runtime: Runtime | undefined;
  let worker: WorkerProcess | undefined;
  let stack: TestStack;
  let studentId: string;
  let healthUrl: string;
  const database = "iepgen_restart";

  beforeAll(async () => {
    cluster = await createPrivateCluster();
    await cluster.start();
    const url = cluster.url(database);
    const logger = testLogger();
    await prepareDatabase(url, logger);
    simulator = await startGeminiSimulator();
    // The API in this process, configured as test/helpers/stack.ts's runtimeConfig does.
    runtime = await startRuntime({
      databaseUrl: url,
      poolMax: 10,
      jwtSecret: TEST_JWT_SECRET,
      evidenceMaxChars: 200_000,
      production: false,
      logger,
      gemini: {
        apiKey: SIMULATOR_API_KEY, baseUrl: simulator.url, model: "gemini-2.5-flash", embeddingModel: "gemini-embedding-001",
        timeoutMs: 10_000, simulated: true,
        resilience: { maxRetries: 2, baseDelayMs: 20, maxDelayMs: 200, breaker: { resetTimeoutMs: OUTAGE_RETRY_DELAY_MS } },
      },
      retry: TEST_RETRY_TIMINGS,
      recovery: TEST_RECOVERY_TIMINGS,
      api: { host: "127.0.0.1", port: 0 },
    });
    const api = runtime;
    const createTenant = async (role: UserRole = "CASE_MANAGER"): Promise<Tenant> => {
      const school = await insertSchool(api.pool, "Restart school");
      const user = await insertUser(api.pool, { schoolId: school.id, email: `cm-${school.id}@example.org`, name: "Test User", role });
      return { schoolId: school.id, userId: user.id, token: await signToken({ userId: user.id, schoolId: school.id, role }, TEST_JWT_SECRET) };
    };
    const tenant = await createTenant();
    const httpUrl = api.server!.url;
    stack = {
      db: { url, name: database, drop: async () => undefined },
      runtime: api, simulator, httpUrl, graphqlUrl: `${httpUrl}/graphql`, wsUrl: `${httpUrl.replace(/^http/, "ws")}/graphql`,
      tenant, createTenant,
      async gql<T = any>(query: string, variables: Record<string, unknown> = {}, token: string | null = tenant.token): Promise<GraphQLResponse<T>> {
        const response = await fetch(`${httpUrl}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<T>, "status">) };
      },
      close: async () => undefined,
    };
    worker = await startWorkerProcess(url, simulator.url, { WORKER_CONCURRENCY: "3", WORKER_HEALTH_PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info" });
    healthUrl = await waitFor(async () => /"healthz":"([^"]+)"/.exec(worker!.output())?.[1], 10_000, "the worker's /healthz address");
    studentId = await studentWithEvidence(stack);
  }, 60_000);

  afterAll(async () => {
    // Tear down even after a failure: processes first, then the cluster and its directory.
    await worker?.stop().catch(() => undefined);
    await runtime?.close().catch(() => undefined);
    await simulator?.close().catch(() => undefined);
    await cluster?.remove();
  }, 60_000);

  it("stopping Postgres (pg_ctl stop -m fast) for 10 s under running drafts: the worker process stays up, becomes healthy again, every draft succeeds once", async () => {
    simulator!.setLatencyMs(1500);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 4; i++) ids.push((await generate(stack, { studentId })).id);
      await waitFor(async () => {
        const views = await Promise.all(ids.map((id) => view(stack, id)));
        return views.filter((v) => v?.status === "RUNNING" && v.events.at(-1)?.stage === "DRAFTING").length >= 2;
      }, 30_000, "two drafts to be waiting on Gemini");

      await cluster!.stop("fast");
      const stoppedAt = performance.now();
      // While it is down the worker process stays up and says so on /healthz (503, database down).
      const down = await waitFor(async () => {
        if (worker!.hasExited()) throw new Error(`the worker process exited during the outage:\n${worker!.output()}`);
        const report = await getJson(healthUrl);
        return report?.status === 503 ? report.body : undefined;
      }, 8000, "the worker's /healthz to report the outage");
      expect(down).toMatchObject({ ok: false, database: "down" });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (performance.now() - stoppedAt)))); // the outage itself
      expect(worker!.hasExited(), worker!.output()).toBe(false);
      await cluster!.start();
      const restartedAt = performance.now();

      const health = await waitFor(async () => {
        if (worker!.hasExited()) throw new Error(`the worker process exited after the restart:\n${worker!.output()}`);
        const report = await getJson(healthUrl);
        return report?.status === 200 ? report.body : undefined;
      }, 30_000, "the worker's /healthz to say ok again");
      expect(health).toMatchObject({ ok: true, database: "up", worker: "running" });
      const healthyMs = performance.now() - restartedAt;

      const generations = await waitAllTerminal(stack, ids, 40_000);
      const doneMs = performance.now() - restartedAt;
      for (const generation of generations) await expectSucceededWithoutUsingAttempts(stack.db.url, generation);
      expect(worker!.hasExited()).toBe(false);
      expect(worker!.output()).not.toMatch(/unhandled promise rejection/);
      console.info(`[database-faults] Postgres restart: worker healthy ${(healthyMs / 1000).toFixed(1)} s and all ${ids.length} SUCCEEDED `
        + `${(doneMs / 1000).toFixed(1)} s after Postgres was back (down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s); `
        + `workerRestarts ${health.workerRestarts}; detours back to QUEUED: ${JSON.stringify(detours(generations))}`);
    } catch (error) {
      console.error(`[database-faults] worker process output:\n${worker!.output().slice(-20_000)}\n--- postgres log:\n${(await cluster!.log()).slice(-5000)}`);
      throw error;
    } finally {
      simulator!.setLatencyMs(0);
    }
  }, 90_000);
});
