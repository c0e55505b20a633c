/**
 * What the draft benchmarks (throughput, in-flight) share: a scratch database with one school and
 * students with READY evidence, ONE `node src/main.ts worker` child pointed at an in-process Gemini
 * simulator, the worker's statement counter read from its /metrics, drafts enqueued in batches,
 * and a raw graphile-worker baseline (a task list of one task, nothing of iepgen's) on the same
 * database with a pool of the same size.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { EventEmitter } from "node:events";
import { Logger, run, type Task, type WorkerEvents } from "graphile-worker";
import pg from "pg";
import type { Viewer } from "../../src/auth.ts";
import { withDatabaseName } from "../../src/db/pool.ts";
import { insertSchool, insertUser } from "../../src/db/schools.ts";
import { prepareDatabase } from "../../src/db/setup.ts";
import { env } from "../../src/env.ts";
import { startGeminiSimulator, type GeminiSimulator } from "../../src/gemini/simulator/server.ts";
import { createLogger } from "../../src/logger.ts";
import { addEvidence } from "../../src/services/evidence.ts";
import { requestBatchGeneration } from "../../src/services/generation/request.ts";
import { createStudent } from "../../src/services/students.ts";
import { cleanEnv, freePort, ROOT } from "../../test/helpers/process.ts";

export const logger = createLogger("error", "stderr");

const EVIDENCE = [
  { kind: "PROGRESS_NOTE", title: "Reading fluency progress", body: "Oral reading fluency on DIBELS 8 rose from a baseline of 18 to 44 words correct per minute with 92% accuracy after repeated reading three times a week." },
  { kind: "EVALUATION", title: "Psychoeducational evaluation", body: "WIAT-4 math problem solving standard score 82; numerical operations 79. Working memory index 85 on the WISC-V. Benefits from manipulatives and worked examples." },
  { kind: "TEACHER_OBSERVATION", title: "Classroom observation", body: "On task during 65% of observed intervals in independent work; movement breaks every 15 minutes and a visual timer reduced off-task behaviour." },
] as const;

/** A scratch database (created, migrated) next to DATABASE_URL's, with an owner pool on it. */
export interface Scratch {
  url: string;
  pool: pg.Pool;
  simulator: GeminiSimulator;
  drop(): Promise<void>;
}

export async function createScratch(latencyMs: number): Promise<Scratch> {
  const base = env().DATABASE_URL;
  const name = `iepgen_bench_${randomBytes(4).toString("hex")}`;
  const url = withDatabaseName(base, name);
  await prepareDatabase(url, logger);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on("error", () => undefined);
  const simulator = await startGeminiSimulator({ latencyMs });
  return {
    url, pool, simulator,
    async drop() {
      await simulator.close();
      await pool.end();
      const admin = new pg.Client({ connectionString: withDatabaseName(base, "postgres") });
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** A worker child process with its health/metrics listener. */
export interface WorkerChild {
  child: ChildProcess;
  metricsUrl: string;
  /** Sums `iepgen_db_statements_total` by pool. */
  statements(): Promise<Record<string, number>>;
  /** VmRSS of the child now, in MB. */
  rssMb(): number;
  /** CPU time (user + system) the child has used so far, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startWorkerChild(scratch: Scratch, vars: { concurrency: number; poolMax: number }): Promise<WorkerChild> {
  const port = await freePort();
  const child = spawn(process.execPath, ["src/main.ts", "worker"], {
    cwd: ROOT,
    env: cleanEnv({
      DATABASE_URL: scratch.url, GEMINI_BASE_URL: scratch.simulator.url, LOG_LEVEL: "error", HOST: "127.0.0.1",
      JWT_SECRET: "bench-secret-that-is-long-enough-for-hs256-000000", WORKER_HEALTH_PORT: String(port),
      WORKER_CONCURRENCY: String(vars.concurrency), DATABASE_POOL_MAX: String(vars.poolMax),
    }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // Never outlive the bench: killed when this process exits, however it ends, and after 10 minutes regardless.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const guard = setTimeout(killOnExit, 600_000).unref();
  const exited = new Promise<void>((resolve) => child.once("exit", () => {
    process.off("exit", killOnExit);
    clearTimeout(guard);
    resolve();
  }));
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  await waitUntil(async () => {
    if (child.exitCode !== null) throw new Error(`worker exited early: ${stderr}`);
    return fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
  }, 120_000, "the worker's /healthz").catch((error: unknown) => {
    killOnExit();
    throw error;
  });
  return {
    child, metricsUrl,
    async statements() {
      const text = await (await fetch(metricsUrl)).text();
      const byPool: Record<string, number> = {};
      for (const match of text.matchAll(/^iepgen_db_statements_total\{pool="([^"]+)"\} (\S+)$/gm)) byPool[match[1]!] = Number(match[2]);
      return byPool;
    },
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
    },
    cpuMs: () => cpuOfPid(child.pid!),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

/** One school, a case manager, and `count` students each with READY evidence (ingested by the running worker). */
export async function seedStudents(scratch: Scratch, count: number): Promise<{ viewer: Viewer; studentIds: string[] }> {
  const school = await insertSchool(scratch.pool, "Benchmark school");
  const user = await insertUser(scratch.pool, { schoolId: school.id, email: "bench@example.org", name: "Bench", role: "CASE_MANAGER" });
  const viewer: Viewer = { userId: user.id, schoolId: school.id, role: user.role } as Viewer;
  const studentIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const student = await createStudent(scratch.pool, viewer, {
      firstName: `Bench${i}`, lastName: "Student", dateOfBirth: "2016-03-01", grade: "5", disabilityCategories: ["SPECIFIC_LEARNING_DISABILITY"],
    });
    studentIds.push(student.id);
    for (const doc of EVIDENCE) await addEvidence(scratch.pool, viewer, { studentId: student.id, ...doc }, { maxChars: 200_000, log: logger });
  }
  await waitUntil(async () => {
    const { rows } = await scratch.pool.query("select count(*) filter (where status <> 'READY')::int as pending, count(*) filter (where status = 'FAILED')::int as failed from evidence");
    if (rows[0].failed > 0) throw new Error("evidence ingestion FAILED");
    return rows[0].pending === 0;
  }, 60_000, "evidence READY");
  return { viewer, studentIds };
}

/** Queues `drafts` FULL_IEP generations as generateIeps batches (one transaction each, every student once per batch). */
export async function enqueueDrafts(scratch: Scratch, seeded: { viewer: Viewer; studentIds: string[] }, drafts: number): Promise<string[]> {
  const batches: string[] = [];
  const limits = { userPerMinute: 1_000_000, schoolPerMinute: 1_000_000 };
  for (let left = drafts; left > 0; left -= seeded.studentIds.length) {
    const studentIds = seeded.studentIds.slice(0, Math.min(left, seeded.studentIds.length));
    batches.push((await requestBatchGeneration(scratch.pool, seeded.viewer, { studentIds }, logger, limits)).batchId);
  }
  return batches;
}

/** Status counts of the generations (bench's own connection: not counted in the worker's statements). */
export async function generationCounts(pool: pg.Pool): Promise<{ done: number; succeeded: number; failed: number }> {
  const { rows } = await pool.query(
    `select count(*) filter (where status in ('SUCCEEDED', 'FAILED', 'CANCELLED'))::int as done,
            count(*) filter (where status = 'SUCCEEDED')::int as succeeded, count(*) filter (where status = 'FAILED')::int as failed
     from generations`);
  return rows[0];
}

/** First start and every finish of the succeeded generations, in ms since epoch, sorted. */
export async function draftTimes(pool: pg.Pool): Promise<{ firstStart: number; finishes: number[]; starts: number[] }> {
  const { rows } = await pool.query<{ started: Date; finished: Date }>(
    `select started_at as started, finished_at as finished from generations where status = 'SUCCEEDED'`);
  const finishes = rows.map((r) => r.finished.getTime()).sort((a, b) => a - b);
  const starts = rows.map((r) => r.started.getTime()).sort((a, b) => a - b);
  return { firstStart: starts[0] ?? Number.NaN, finishes, starts };
}

/**
 * The raw baseline: graphile-worker `run()` with one task (`task`) at `concurrency` with a pool of
 * `poolMax`, `jobs` jobs added in one statement. Returns the job start and finish times (ms).
 */
export async function rawWorkerJobs(url: string, options: { jobs: number; concurrency: number; poolMax: number; task: Task }) {
  const pool = new pg.Pool({ connectionString: url, max: options.poolMax });
  pool.on("error", () => undefined);
  const events: WorkerEvents = new EventEmitter();
  const starts: number[] = [];
  const finishes: number[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  events.on("job:start", () => starts.push(Date.now()));
  events.on("job:success", () => {
    finishes.push(Date.now());
    if (finishes.length === options.jobs) resolveDone();
  });
  const runner = await run({
    pgPool: pool, events, concurrency: options.concurrency, noHandleSignals: true, pollInterval: 1000,
    taskList: { bench_baseline: options.task }, logger: new Logger(() => () => {}),
  });
  try {
    await pool.query(
      `select graphile_worker.add_jobs(array(
         select row('bench_baseline', '{}'::json, null, null, 1, null, null, null)::graphile_worker.job_spec from generate_series(1, $1)))`,
      [options.jobs]);
    await done;
  } finally {
    await runner.stop();
    await pool.end();
  }
  return { starts, finishes };
}

/** CPU time (ms) used so far by the Postgres backends serving iepgen's pools on the scratch database, by pid. */
export async function backendCpuMs(pool: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database() and application_name like 'iepgen-%'");
  const used = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      used.set(pid, cpuOfPid(pid));
    } catch {
      // the backend exited meanwhile
    }
  }
  return used;
}

/** CPU time (user + system, ms) a process has used, from /proc. */
export function cpuOfPid(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function waitUntil<T>(check: () => Promise<T | false | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
