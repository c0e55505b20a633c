/**
 * Fault soak: 1,000 IEP drafts through the real processes while Gemini misbehaves and the
 * infrastructure is pulled out from under them. Answers: is any generation lost (never terminal)
 * or duplicated (more than one IEP), and what does recovery cost?
 *
 *   - its own database (created, migrated, dropped at the end);
 *   - a standalone Gemini simulator child (`src/gemini/simulator/main.ts`, control API on);
 *   - the API in this process (startRuntime, no worker, 127.0.0.1:0), driven over HTTP;
 *   - TWO worker children (`node src/main.ts worker`) with fast-but-realistic recovery settings.
 *
 * Phases: seed students with evidence (ingested by the workers, no faults), a no-fault baseline of
 * drafts, then the soak: 1,000 generateIep(async) / generateIeps requests while ~30 % of Gemini
 * requests fail (seeded probabilities, every kind: 429 with retryDelay, 500, hang past the
 * timeout, malformed JSON, stream cut, a small rate of permanent 400s), plus: three 10-second
 * bursts in which every other Gemini request is a 500 (long enough to open each worker's circuit
 * breaker), one pg_terminate_backend wave over every backend of the database, and one worker
 * SIGKILLed half-way (and replaced). Waits until every generation is terminal or the
 * wait runs out, then prints a table, a PASS/MISS line ("lost 0, duplicated 0") and one JSON line.
 *
 * Run: npm run bench:faults [-- --generations 1000 --baseline 200 --students 50 --seed 20261127]
 * Exit code 0 when the soak ran (even on MISS); non-zero when the bench itself broke or hit the
 * hard stop. Every process it starts is killed on exit, error or Ctrl-C. Loopback only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { signToken, type Viewer } from "../src/auth.ts";
import { DEMO_STUDENTS } from "../src/cli/demo-data.ts";
import { withDatabaseName } from "../src/db/pool.ts";
import { insertSchool, insertUser } from "../src/db/schools.ts";
import { prepareDatabase } from "../src/db/setup.ts";
import { env } from "../src/env.ts";
import { SIMULATOR_API_KEY } from "../src/gemini/config.ts";
import { createLogger } from "../src/logger.ts";
import { startRuntime, type Runtime } from "../src/runtime.ts";
import { addEvidence } from "../src/services/evidence.ts";
import { createStudent } from "../src/services/students.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: args } = parseArgs({
  options: {
    students: { type: "string", default: "50" },
    generations: { type: "string", default: "1000" },
    baseline: { type: "string", default: "200" },
    "fault-rate": { type: "string", default: "0.3" },
    seed: { type: "string", default: "20261127" },
    concurrency: { type: "string", default: "8" },
    "wait-minutes": { type: "string", default: "10" },
    "hard-stop-minutes": { type: "string", default: "12" },
  },
});

const SETTINGS = {
  students: Number(args.students),
  generations: Number(args.generations),
  /** Of the soak's generations, this many are queued as generateIeps batches of `students` each. */
  batchGenerations: Math.min(Number(args.generations), 4 * Number(args.students)),
  baselineGenerations: Number(args.baseline),
  faultRate: Number(args["fault-rate"]),
  seed: Number(args.seed),
  waitMs: Number(args["wait-minutes"]) * 60_000,
  hardStopMs: Number(args["hard-stop-minutes"]) * 60_000,
  enqueueConcurrency: 16,
  simulatorLatencyMs: 25,
  /**
   * Bursts: for `durationMs` every Gemini request the probabilistic faults spare is a 500 (a fault
   * with probability 1 behind them, then cleared), at these fractions of the soak terminal. The
   * breaker (opossum: 50 % of a 10 s rolling window, at least 5 calls) only opens once failures
   * outweigh the window's earlier successes, so a short count-based burst would not open it.
   */
  burst: { durationMs: 10_000, atFractions: [0.1, 0.4, 0.8] },
  waveAtFraction: 0.3,
  killAtFraction: 0.5,
  rateLimitRetryAfterSeconds: 1,
  streamCutAfterChunks: 2,
  workerEnv: {
    WORKER_CONCURRENCY: String(Number(args.concurrency)),
    WORKER_HEARTBEAT_MS: "1000",
    WORKER_DEAD_AFTER_MS: "5000",
    OUTAGE_RETRY_DELAY_MS: "3000",
    GEMINI_TIMEOUT_MS: "2000",
    RETRY_BASE_DELAY_MS: "500",
    GEMINI_MAX_RETRIES: "3",
    DATABASE_POOL_MAX: "10",
    LOG_LEVEL: "warn",
    HOST: "127.0.0.1",
    NODE_ENV: "development",
  },
};
for (const [name, value] of Object.entries(SETTINGS)) {
  if (typeof value === "number" && !(Number.isFinite(value) && value >= 0)) throw new Error(`--${name} must be a non-negative number`);
}

type FaultKind = "rate_limit" | "server_error" | "hang" | "malformed" | "stream_cut" | "bad_request";
type Operation = "stream" | "embed";
/**
 * How the fault rate is split, per operation, as shares of that operation's requests (they sum to 1).
 * Outage signals (429, 500) wait without using attempts; hang/malformed/stream_cut are retried in
 * the call and, if they outlast the retries, use an attempt; 400 fails the generation at once.
 */
const FAULT_SPLIT: Record<Operation, Partial<Record<FaultKind, number>>> = {
  stream: { bad_request: 1 / 30, rate_limit: 7 / 30, server_error: 6 / 30, hang: 3 / 30, malformed: 6 / 30, stream_cut: 7 / 30 },
  embed: { bad_request: 1 / 30, rate_limit: 8 / 30, server_error: 8 / 30, hang: 4 / 30, malformed: 9 / 30 },
};

const benchStartedAt = Date.now();
const JWT_SECRET = "bench-faults-secret-that-is-long-enough-for-hs256-0000";
const logger = createLogger("error", "stderr");
const settings = env();
const runId = randomBytes(4).toString("hex");
const databaseName = `iepgen_bench_faults_${runId}`;
const databaseUrl = withDatabaseName(settings.DATABASE_URL, databaseName);
const adminUrl = withDatabaseName(settings.DATABASE_URL, "postgres");
const logDir = join(os.tmpdir(), `iepgen-bench-faults-${runId}`);
mkdirSync(logDir, { recursive: true });
if (!/^postgres(ql)?:\/\/([^@/]*@)?(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(databaseUrl)) {
  throw new Error(`bench:faults only runs against a loopback Postgres; DATABASE_URL points at ${new URL(databaseUrl).host}`);
}

const say = (line: string) => console.log(`[${((Date.now() - benchStartedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`);

// ---------------------------------------------------------------------------------------------
// Child processes: all tracked, all killed on exit, error, Ctrl-C or the hard stop.
// ---------------------------------------------------------------------------------------------

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** Set when we killed it on purpose (so its exit is not a crash). */
  expectedExit: boolean;
  logPath: string;
}

const children: Child[] = [];
const crashes: { name: string; code: number | null; signal: NodeJS.Signals | null; atS: number }[] = [];
/** Warn-or-worse log messages of the worker children: msg → count. */
const workerLogCounts = new Map<string, number>();

function track(name: string, proc: ChildProcess, logPath: string): Child {
  let exited = false;
  const child: Child = {
    name, process: proc, logPath, expectedExit: false,
    hasExited: () => exited,
    exited: new Promise((resolve) =>
      proc.once("exit", (code, signal) => {
        exited = true;
        if (!child.expectedExit && !shuttingDown) {
          crashes.push({ name, code, signal, atS: Math.round((Date.now() - benchStartedAt) / 1000) });
          say(`!! ${name} exited unexpectedly (code ${code}, signal ${signal}); log: ${logPath}`);
        }
        resolve({ code, signal });
      })),
  };
  children.push(child);
  return child;
}

async function stopChild(child: Child, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  child.expectedExit = true;
  if (child.hasExited()) return;
  child.process.kill(signal);
  const forced = setTimeout(() => child.process.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(forced);
}

/** A clean environment (PATH, HOME) plus `vars`: never the caller's GEMINI_* or DATABASE_URL. */
function childEnv(vars: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...vars };
}

type Phase = "seed" | "baseline" | "soak";
let phase: Phase = "seed";
/** While a burst runs, its requests are counted apart (fault name + "@burst"). */
let burstActive = false;
/** Simulator requests by phase → operation → fault ("none" when answered normally), from its log. */
const simulatorCounts: Record<Phase, Record<string, Record<string, number>>> = { seed: {}, baseline: {}, soak: {} };

async function startSimulator(): Promise<{ child: Child; url: string }> {
  const logPath = join(logDir, "simulator.log");
  const log = createWriteStream(logPath);
  const proc = spawn(process.execPath, ["src/gemini/simulator/main.ts"], {
    cwd: ROOT,
    env: childEnv({ GEMINI_SIMULATOR_PORT: "0", GEMINI_SIMULATOR_LATENCY_MS: String(SETTINGS.simulatorLatencyMs), NODE_ENV: "development" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = track("simulator", proc, logPath);
  proc.stderr!.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on("line", (line) => {
      const ready = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (ready) {
        log.write(`${line}\n`);
        return resolve(ready[1]!);
      }
      const request = /→ (generate|stream|embed)(?: with fault (\w+))?$/.exec(line);
      if (request) {
        const byOperation = (simulatorCounts[phase][request[1]!] ??= {});
        const fault = `${request[2] ?? "none"}${burstActive ? "@burst" : ""}`;
        byOperation[fault] = (byOperation[fault] ?? 0) + 1;
        if (request[2]) log.write(`${new Date().toISOString()} ${line}\n`);
      } else {
        log.write(`${line}\n`);
      }
    });
    void child.exited.then(({ code, signal }) => reject(new Error(`the simulator exited early (${code ?? signal}); see ${logPath}`)));
  });
  return { child, url };
}

let workerSerial = 0;

async function startWorker(pool: pg.Pool, geminiUrl: string): Promise<Child & { runnerId: string }> {
  workerSerial += 1;
  const name = `worker-${String.fromCharCode(64 + workerSerial)}`;
  const logPath = join(logDir, `${name}.log`);
  const log: WriteStream = createWriteStream(logPath);
  const proc = spawn(process.execPath, ["src/main.ts", "worker"], {
    cwd: ROOT,
    env: childEnv({ DATABASE_URL: databaseUrl, GEMINI_BASE_URL: geminiUrl, JWT_SECRET, ...SETTINGS.workerEnv }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = track(name, proc, logPath);
  for (const stream of [proc.stdout!, proc.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      log.write(`${line}\n`);
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        if ((entry.level ?? 0) >= 40 && entry.msg) workerLogCounts.set(entry.msg, (workerLogCounts.get(entry.msg) ?? 0) + 1);
      } catch {
        // Not a JSON log line (a start-up failure message): kept in the log file.
      }
    });
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.hasExited()) throw new Error(`${name} exited before it was ready; see ${logPath}`);
    const rows = await query<{ id: string }>(pool,
      "select id from worker_heartbeats where pid = $1 and role = 'worker' and cardinality(worker_ids) > 0", [proc.pid]);
    if (rows[0]) return Object.assign(child, { runnerId: rows[0].id });
    if (Date.now() > deadline) throw new Error(`${name} did not start beating within 30 s; see ${logPath}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers: queries that ride out the termination wave, GraphQL over HTTP, the simulator's API.
// ---------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A query on the bench's own pool, retried for a few seconds if the database drops the connection. */
async function query<T = any>(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<T[]> {
  for (let tries = 1; ; tries++) {
    try {
      return (await pool.query(sql, params)).rows as T[];
    } catch (error) {
      if (tries >= 25) throw error;
      await sleep(200);
    }
  }
}

function graphqlClient(url: string, token: string) {
  return async (operation: string, variables: Record<string, unknown>): Promise<any> => {
    for (let tries = 1; ; tries++) {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: operation, variables }),
        });
        const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
        if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
        return body.data;
      } catch (error) {
        if (tries >= 5) throw error;
        await sleep(250 * tries);
      }
    }
  };
}
type Gql = ReturnType<typeof graphqlClient>;

const GENERATE = `mutation($input: GenerateIepInput!) {
  generateIep(input: $input, async: true) {
    __typename ... on GenerateIepSuccess { generation { id } } ... on Error { message }
  }
}`;
const GENERATE_MANY = `mutation($input: GenerateIepsInput!) {
  generateIeps(input: $input) {
    __typename ... on GenerateIepsSuccess { batch { id generations { id } } } ... on Error { message }
  }
}`;

/** One generateIep(async: true); the idempotency key makes a retried request return the same generation. */
async function enqueueOne(gql: Gql, studentId: string, key: string): Promise<string> {
  const data = await gql(GENERATE, { input: { studentId, idempotencyKey: key } });
  if (data.generateIep.__typename !== "GenerateIepSuccess") throw new Error(`generateIep: ${data.generateIep.__typename} ${data.generateIep.message}`);
  return data.generateIep.generation.id;
}

async function enqueueBatch(gql: Gql, studentIds: string[]): Promise<string[]> {
  const data = await gql(GENERATE_MANY, { input: { studentIds } });
  if (data.generateIeps.__typename !== "GenerateIepsSuccess") throw new Error(`generateIeps: ${data.generateIeps.__typename} ${data.generateIeps.message}`);
  return data.generateIeps.batch.generations.map((g: { id: string }) => g.id);
}

/** Runs `tasks` with at most `limit` in flight; results in order. */
async function pooled<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  }));
  return results;
}

async function simulatorCall(baseUrl: string, method: string, path: string, body?: object): Promise<any> {
  const response = await fetch(`${baseUrl}/_simulator/${path}`, {
    method, ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`simulator ${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

/** Status counts of `ids`. */
async function statusCounts(pool: pg.Pool, ids: string[]): Promise<Record<string, number>> {
  const rows = await query<{ status: string; n: number }>(pool,
    "select status, count(*)::int as n from generations where id = any($1::uuid[]) group by status", [ids]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

const terminalOf = (counts: Record<string, number>) => (counts.SUCCEEDED ?? 0) + (counts.FAILED ?? 0) + (counts.CANCELLED ?? 0);

// ---------------------------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------------------------

let shuttingDown = false;
/** Set by Ctrl-C / SIGTERM (130) or the hard stop (3): the exit code once cleanup is done. */
let interruptedCode: number | undefined;
let runtime: Runtime | undefined;
let benchPool: pg.Pool | undefined;
let cleanedUp: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleanedUp ??= (async () => {
    shuttingDown = true;
    await Promise.all(children.map((c) => stopChild(c, "SIGTERM", c.name === "simulator" ? 2000 : 10_000).catch(() => undefined)));
    await Promise.race([runtime?.close(), sleep(10_000)]).catch(() => undefined);
    await benchPool?.end().catch(() => undefined);
    const admin = new pg.Client({ connectionString: adminUrl });
    try {
      await admin.connect();
      await admin.query(`drop database if exists ${pg.escapeIdentifier(databaseName)} with (force)`);
    } catch (error) {
      console.error(`could not drop ${databaseName}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await admin.end().catch(() => undefined);
    }
  })());
}

async function main(): Promise<void> {
  const machine = {
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((10 * os.totalmem()) / 2 ** 30) / 10,
    node: process.version,
    postgres: "",
    date: new Date().toISOString(),
  };
  say(`database ${databaseName}; child logs in ${logDir}`);
  await prepareDatabase(databaseUrl, logger);
  benchPool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: "bench-faults" });
  benchPool.on("error", () => undefined);
  const pool = benchPool;
  machine.postgres = (await query<{ v: string }>(pool, "select current_setting('server_version') as v"))[0]!.v;

  const simulator = await startSimulator();
  say(`simulator ${simulator.url} (latency ${SETTINGS.simulatorLatencyMs} ms)`);
  runtime = await startRuntime({
    databaseUrl, poolMax: 10, jwtSecret: JWT_SECRET, evidenceMaxChars: 200_000, production: false, logger,
    // One bench user queues 1,200 drafts in seconds: far past the per-user and per-school limits.
    security: { rateLimits: { userPerMinute: 1_000_000, schoolPerMinute: 1_000_000 } },
    gemini: { apiKey: SIMULATOR_API_KEY, baseUrl: simulator.url, model: "gemini-2.5-flash", embeddingModel: "gemini-embedding-001",
      timeoutMs: Number(SETTINGS.workerEnv.GEMINI_TIMEOUT_MS), simulated: true,
      resilience: { maxRetries: Number(SETTINGS.workerEnv.GEMINI_MAX_RETRIES), breaker: { resetTimeoutMs: Number(SETTINGS.workerEnv.OUTAGE_RETRY_DELAY_MS) } } },
    worker: undefined,
    workerConcurrencyHint: Number(SETTINGS.workerEnv.WORKER_CONCURRENCY),
    recovery: { heartbeatMs: Number(SETTINGS.workerEnv.WORKER_HEARTBEAT_MS), deadAfterMs: Number(SETTINGS.workerEnv.WORKER_DEAD_AFTER_MS) },
    api: { host: "127.0.0.1", port: 0 },
  });
  const api = runtime;
  say(`API (in this process) ${api.server!.url}/graphql`);
  const workers = [await startWorker(pool, simulator.url), await startWorker(pool, simulator.url)];
  say(`${workers.map((w) => `${w.name} pid ${w.process.pid}`).join(", ")} ready`);

  console.log("\nSettings:");
  console.log(JSON.stringify({ ...SETTINGS, faultSplit: describeSplit(), machine }, null, 2));

  // ---- Seed: students with evidence, ingested by the workers before any fault. ----------------
  const school = await insertSchool(pool, "Fault soak school");
  const user = await insertUser(pool, { schoolId: school.id, email: "soak@example.org", name: "Soak", role: "CASE_MANAGER" });
  const viewer: Viewer = { userId: user.id, schoolId: school.id, role: user.role };
  const studentIds: string[] = [];
  for (let i = 0; i < SETTINGS.students; i++) {
    const { evidence, ...demo } = DEMO_STUDENTS[i % DEMO_STUDENTS.length]!;
    const student = await createStudent(pool, viewer, { ...demo, lastName: `${demo.lastName} ${i + 1}` });
    studentIds.push(student.id);
    for (const document of evidence) {
      await addEvidence(pool, viewer, { studentId: student.id, ...document }, { maxChars: 200_000, log: logger });
    }
  }
  const seedStarted = Date.now();
  for (;;) {
    const rows = await query<{ status: string; n: number }>(pool, "select status, count(*)::int as n from evidence group by status");
    const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    if (counts.FAILED) throw new Error(`${counts.FAILED} evidence documents FAILED to ingest without any fault`);
    if (!counts.PENDING) {
      say(`seeded ${studentIds.length} students, ${counts.READY} evidence documents READY in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
      break;
    }
    if (Date.now() - seedStarted > 120_000) throw new Error("evidence did not become READY within 2 minutes");
    await sleep(250);
  }
  const gql = graphqlClient(`${api.server!.url}/graphql`, await signToken(viewer, JWT_SECRET));

  // ---- Baseline: no faults. ----------------------------------------------------------------------
  phase = "baseline";
  const baselineStarted = Date.now();
  const baselineIds = await pooled(
    Array.from({ length: SETTINGS.baselineGenerations }, (_, i) => () => enqueueOne(gql, studentIds[i % studentIds.length]!, `baseline-${i}`)),
    SETTINGS.enqueueConcurrency,
  );
  for (;;) {
    const counts = await statusCounts(pool, baselineIds);
    if (terminalOf(counts) === baselineIds.length) break;
    if (Date.now() - baselineStarted > 180_000) throw new Error(`baseline not finished within 3 minutes: ${JSON.stringify(counts)}`);
    await sleep(250);
  }
  const baselineWallMs = Date.now() - baselineStarted;
  const baselineCounts = await statusCounts(pool, baselineIds);
  say(`baseline: ${baselineIds.length} drafts without faults in ${(baselineWallMs / 1000).toFixed(1)} s ${JSON.stringify(baselineCounts)}`);

  // ---- Soak: faults on, 1,000 drafts, bursts, a termination wave, a worker killed. -------------
  await simulatorCall(simulator.url, "DELETE", "faults");
  const injected = await injectFaults(simulator.url);
  say(`injected ${injected.length} probabilistic faults (${(SETTINGS.faultRate * 100).toFixed(0)} % of stream and of embed requests)`);
  phase = "soak";
  const soakStarted = Date.now();
  const waitUntil = Math.min(soakStarted + SETTINGS.waitMs, benchStartedAt + SETTINGS.hardStopMs - 60_000);
  const batchCount = Math.floor(SETTINGS.batchGenerations / studentIds.length);
  const singles = SETTINGS.generations - batchCount * studentIds.length;
  const enqueueTasks: (() => Promise<string[]>)[] = [
    ...Array.from({ length: batchCount }, () => () => enqueueBatch(gql, studentIds)),
    ...Array.from({ length: singles }, (_, i) => async () => [await enqueueOne(gql, studentIds[i % studentIds.length]!, `soak-${i}`)]),
  ];
  const soakIds = (await pooled(enqueueTasks, SETTINGS.enqueueConcurrency)).flat();
  const enqueueMs = Date.now() - soakStarted;
  say(`queued ${soakIds.length} generations over HTTP in ${(enqueueMs / 1000).toFixed(1)} s (${batchCount} generateIeps batches of ${studentIds.length}, ${singles} generateIep)`);

  const disruptions: { what: string; atS: number; terminal: number; detail?: unknown }[] = [];
  const record = (what: string, terminal: number, detail?: unknown) => {
    disruptions.push({ what, atS: Math.round((Date.now() - soakStarted) / 100) / 10, terminal, ...(detail === undefined ? {} : { detail }) });
    say(`${what} at ${terminal} terminal${detail === undefined ? "" : ` ${JSON.stringify(detail)}`}`);
  };
  const bursts = [...SETTINGS.burst.atFractions];
  let burstEndsAt: number | undefined;
  let burstNumber = 0;
  let waved = false;
  let killed: { runnerId: string; atMs: number; running: number } | undefined;
  let lastPrint = 0;
  let counts: Record<string, number> = {};
  for (;;) {
    counts = await statusCounts(pool, soakIds);
    const terminal = terminalOf(counts);
    if (terminal === soakIds.length || Date.now() > waitUntil) break;
    if (burstEndsAt !== undefined && Date.now() >= burstEndsAt) {
      // The control API clears all faults at once: clear, then put the probabilistic ones back.
      await simulatorCall(simulator.url, "DELETE", "faults");
      burstActive = false;
      burstEndsAt = undefined;
      await injectFaults(simulator.url, burstNumber);
      record(`burst ${burstNumber} over (probabilistic faults re-injected)`, terminal);
    }
    if (burstEndsAt === undefined && bursts.length > 0 && terminal >= bursts[0]! * soakIds.length) {
      bursts.shift();
      burstNumber += 1;
      await simulatorCall(simulator.url, "POST", "faults", { kind: "server_error", until: "cleared" });
      burstActive = true;
      burstEndsAt = Date.now() + SETTINGS.burst.durationMs;
      record(`burst ${burstNumber}: ${SETTINGS.burst.durationMs / 1000} s of 500s on every Gemini request`, terminal);
    }
    // The wave and the kill wait for the end of a burst, so each disruption is seen on its own.
    if (burstEndsAt === undefined && !waved && terminal >= SETTINGS.waveAtFraction * soakIds.length) {
      waved = true;
      record("pg_terminate_backend wave", terminal, { terminatedBackends: await terminateBackends() });
    }
    if (burstEndsAt === undefined && !killed && terminal >= SETTINGS.killAtFraction * soakIds.length) {
      const { victim, running } = await pickVictim(pool, workers.filter((w) => !w.hasExited()));
      victim.expectedExit = true;
      victim.process.kill("SIGKILL");
      await victim.exited;
      killed = { runnerId: victim.runnerId, atMs: Date.now(), running };
      record(`SIGKILL ${victim.name} (pid ${victim.process.pid})`, terminal, { itsRunningGenerations: running });
      const replacement = await startWorker(pool, simulator.url);
      workers.push(replacement);
      record(`started ${replacement.name} (pid ${replacement.process.pid})`, terminal);
    }
    if (Date.now() - lastPrint >= 10_000) {
      lastPrint = Date.now();
      say(`soak: ${terminal}/${soakIds.length} terminal ${JSON.stringify(counts)}`);
    }
    await sleep(burstEndsAt === undefined ? 500 : 250);
  }
  const soakWallMs = Date.now() - soakStarted;
  say(`soak ended after ${(soakWallMs / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
  await simulatorCall(simulator.url, "DELETE", "faults");
  burstActive = false;

  // ---- Report. -----------------------------------------------------------------------------------
  const report = await buildReport(pool, simulator.url, {
    machine, soakIds, baselineIds, baselineWallMs, baselineCounts, soakWallMs, enqueueMs, disruptions, killed, injected,
  });
  printReport(report);
}

/**
 * The live worker running the most generations, waiting up to 20 s for one that runs at least half
 * its concurrency (a breaker may have just sent everything back to the queue), so the kill lands
 * on work in flight.
 */
async function pickVictim<W extends { runnerId: string }>(pool: pg.Pool, live: W[]): Promise<{ victim: W; running: number }> {
  const wanted = Math.max(1, Math.floor(Number(SETTINGS.workerEnv.WORKER_CONCURRENCY) / 2));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await query<{ runner_id: string; n: number }>(pool,
      "select runner_id::text, count(*)::int as n from generations where status = 'RUNNING' and runner_id = any($1::uuid[]) group by 1",
      [live.map((w) => w.runnerId)]);
    const running = (w: W) => rows.find((r) => r.runner_id === w.runnerId)?.n ?? 0;
    const victim = live.reduce((best, w) => (running(w) > running(best) ? w : best));
    if (running(victim) >= wanted || Date.now() > deadline) return { victim, running: running(victim) };
    await sleep(100);
  }
}

/** Posts the probabilistic faults: per operation, the split of the fault rate, as conditional probabilities. */
async function injectFaults(baseUrl: string, round = 0): Promise<object[]> {
  const injected: object[] = [];
  let index = 100 * round;
  for (const [operation, split] of Object.entries(FAULT_SPLIT) as [Operation, Partial<Record<FaultKind, number>>][]) {
    // The simulator tries pending faults in order, each with its own probability, and plays the
    // first that fires: fault k needs probability share_k / (1 − shares before it) to fire on
    // share_k of all requests.
    let before = 0;
    for (const [kind, share] of Object.entries(split) as [FaultKind, number][]) {
      const rate = SETTINGS.faultRate * share;
      const probability = Math.min(1, rate / (1 - before));
      before += rate;
      index += 1;
      injected.push(await simulatorCall(baseUrl, "POST", "faults", {
        kind, operation, until: "cleared", probability, seed: SETTINGS.seed + index,
        ...(kind === "rate_limit" ? { retryAfterSeconds: SETTINGS.rateLimitRetryAfterSeconds } : {}),
        ...(kind === "stream_cut" ? { afterChunks: SETTINGS.streamCutAfterChunks } : {}),
      }));
    }
  }
  return injected;
}

function describeSplit(): Record<Operation, Record<string, string>> {
  const out = {} as Record<Operation, Record<string, string>>;
  for (const [operation, split] of Object.entries(FAULT_SPLIT) as [Operation, Record<string, number>][]) {
    out[operation] = Object.fromEntries(Object.entries(split).map(([kind, share]) => [kind, `${(SETTINGS.faultRate * share * 100).toFixed(1)} %`]));
  }
  return out;
}

/** Terminates every backend connected to the bench database (workers, API, the bench's own pool). */
async function terminateBackends(): Promise<number> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      "select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [databaseName],
    );
    return rows[0].n;
  } finally {
    await admin.end();
  }
}

interface ReportInput {
  machine: Record<string, unknown>;
  soakIds: string[];
  baselineIds: string[];
  baselineWallMs: number;
  baselineCounts: Record<string, number>;
  soakWallMs: number;
  enqueueMs: number;
  disruptions: { what: string; atS: number; terminal: number; detail?: unknown }[];
  killed: { runnerId: string; atMs: number; running: number } | undefined;
  injected: object[];
}

const EXPECTED_FAILURE = /INVALID_ARGUMENT|invalid argument|\b400\b/;

async function buildReport(pool: pg.Pool, simulatorUrl: string, input: ReportInput) {
  const { soakIds } = input;
  const counts = await statusCounts(pool, soakIds);
  const terminal = terminalOf(counts);
  const failedReasons = await query<{ reason: string; n: number }>(pool,
    `select regexp_replace(coalesce(error, message, '(no error)'), '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g') as reason,
            count(*)::int as n
     from generations where id = any($1::uuid[]) and status = 'FAILED' group by 1 order by 2 desc`, [soakIds]);
  const duplicated = (await query<{ n: number }>(pool,
    "select count(*)::int as n from (select generation_id from ieps where generation_id is not null group by 1 having count(*) > 1) d"))[0]!.n;
  const orphanIeps = (await query<{ n: number }>(pool,
    `select count(*)::int as n from ieps i left join generations g on g.id = i.generation_id
     where g.id is null or g.status <> 'SUCCEEDED' or g.iep_id is distinct from i.id`))[0]!.n;
  const succeededWithoutIep = (await query<{ n: number }>(pool,
    `select count(*)::int as n from generations g where g.status = 'SUCCEEDED'
     and not exists (select 1 from ieps i where i.id = g.iep_id and i.generation_id = g.id)`))[0]!.n;
  const generationsInDb = (await query<{ n: number }>(pool, "select count(*)::int as n from generations"))[0]!.n;
  const attempts = await query<{ attempts: number; n: number }>(pool,
    "select attempts, count(*)::int as n from generations where id = any($1::uuid[]) group by 1 order by 1", [soakIds]);
  const events = await query<{ stage: string; n: number }>(pool,
    "select stage::text, count(*)::int as n from generation_events where generation_id = any($1::uuid[]) group by 1 order by 1", [soakIds]);
  const eventCount = (stage: string) => events.find((e) => e.stage === stage)?.n ?? 0;
  const recovered = (await query<{ first: Date | null; last: Date | null; generations: number }>(pool,
    `select min(created_at) as first, max(created_at) as last, count(distinct generation_id)::int as generations
     from generation_events where stage = 'recovered' and generation_id = any($1::uuid[])`, [soakIds]))[0]!;
  const durations = (await query<{ p50: number; p95: number; max: number }>(pool,
    `select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.95) within group (order by ms) as p95, max(ms) as max
     from (select extract(epoch from finished_at - created_at) * 1000 as ms from generations
           where id = any($1::uuid[]) and status = 'SUCCEEDED') d`, [soakIds]))[0]!;
  const jobsLeft = await jobsLeftOver(pool);
  const { next: simulatorTotal } = (await simulatorCall(simulatorUrl, "GET", "requests?since=999999999")) as { next: number };

  const failed = failedReasons.map((r) => ({ ...r, expected: EXPECTED_FAILURE.test(r.reason) }));
  const soakSucceeded = counts.SUCCEEDED ?? 0;
  const baselineSucceeded = input.baselineCounts.SUCCEEDED ?? 0;
  const lost = soakIds.length - terminal;
  const soakRequests = simulatorCounts.soak;
  const requestTotals = Object.fromEntries(Object.entries(soakRequests).map(([op, byFault]) => [op, Object.values(byFault).reduce((a, b) => a + b, 0)]));
  const faultedTotals = Object.fromEntries(Object.entries(soakRequests).map(([op, byFault]) =>
    [op, Object.entries(byFault).filter(([f]) => f !== "none").reduce((a, [, b]) => a + b, 0)]));
  const sumWhere = (byFault: Record<string, number>, keep: (fault: string) => boolean) =>
    Object.entries(byFault).filter(([f]) => keep(f)).reduce((a, [, b]) => a + b, 0);
  const outsideBursts = Object.fromEntries(Object.entries(soakRequests).map(([op, byFault]) => {
    const total = sumWhere(byFault, (f) => !f.endsWith("@burst"));
    const faulted = sumWhere(byFault, (f) => !f.endsWith("@burst") && f !== "none");
    return [op, { requests: total, faulted, percent: round((100 * faulted) / (total || 1)) }];
  }));
  const inBursts = Object.fromEntries(Object.entries(soakRequests).map(([op, byFault]) => [op, sumWhere(byFault, (f) => f.endsWith("@burst"))]));
  const breakerOpened = [...workerLogCounts.entries()].filter(([msg]) => msg.startsWith("circuit opened")).reduce((a, [, n]) => a + n, 0);
  return {
    benchmark: "faults",
    machine: input.machine,
    settings: { ...SETTINGS, faultSplit: describeSplit() },
    baseline: {
      generations: input.baselineIds.length,
      byStatus: input.baselineCounts,
      wallS: round(input.baselineWallMs / 1000),
      succeededPerS: round(baselineSucceeded / (input.baselineWallMs / 1000)),
      geminiRequests: simulatorCounts.baseline,
    },
    soak: {
      generations: soakIds.length,
      enqueueS: round(input.enqueueMs / 1000),
      wallS: round(input.soakWallMs / 1000),
      succeededPerS: round(soakSucceeded / (input.soakWallMs / 1000)),
      byStatus: { SUCCEEDED: counts.SUCCEEDED ?? 0, FAILED: counts.FAILED ?? 0, CANCELLED: counts.CANCELLED ?? 0 },
      notTerminal: { QUEUED: counts.QUEUED ?? 0, RUNNING: counts.RUNNING ?? 0 },
      failed,
      failedExpected: failed.filter((f) => f.expected).reduce((a, f) => a + f.n, 0),
      failedUnexpected: failed.filter((f) => !f.expected).reduce((a, f) => a + f.n, 0),
      lost,
      duplicated,
      iepsWithoutSucceededGeneration: orphanIeps,
      succeededWithoutIep,
      generationsInDatabase: generationsInDb,
      jobsLeft,
      generationsExpectedInDatabase: input.baselineIds.length + soakIds.length,
      attempts: { sum: attempts.reduce((a, r) => a + r.attempts * r.n, 0), histogram: Object.fromEntries(attempts.map((r) => [r.attempts, r.n])) },
      events: Object.fromEntries(events.map((e) => [e.stage, e.n])),
      recoveredEvents: eventCount("recovered"),
      waitingForGeminiEvents: eventCount("waiting_for_gemini"),
      waitingForDatabaseEvents: eventCount("waiting_for_database"),
      recovery: input.killed && {
        killedRunningGenerations: input.killed.running,
        recoveredGenerations: recovered.generations,
        firstRecoveredAfterKillS: recovered.first ? round((recovered.first.getTime() - input.killed.atMs) / 1000) : null,
      },
      requestToSucceededMs: { p50: Math.round(durations.p50 ?? 0), p95: Math.round(durations.p95 ?? 0), max: Math.round(durations.max ?? 0) },
      geminiRequests: soakRequests,
      geminiRequestTotals: requestTotals,
      geminiFaulted: faultedTotals,
      geminiFaultedPercent: Object.fromEntries(Object.entries(faultedTotals).map(([op, n]) => [op, round((100 * n) / (requestTotals[op] || 1))])),
      geminiOutsideBursts: outsideBursts,
      geminiRequestsInBursts: inBursts,
      breakerOpened,
      simulatorRequestsAllPhases: simulatorTotal,
      simulatorRequestsCountedFromLog: Object.values(simulatorCounts).flatMap((byOp) => Object.values(byOp)).flatMap((byFault) => Object.values(byFault)).reduce((a, b) => a + b, 0),
      disruptions: input.disruptions,
      workerCrashes: crashes,
      workerLogWarnings: Object.fromEntries([...workerLogCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)),
      childLogs: logDir,
    },
    pass: lost === 0 && duplicated === 0,
  };
}

/**
 * graphile-worker jobs still in the queue once every generation is terminal (a finished job is
 * deleted, so this should reach 0 within moments). A job still locked by a dead process is a leak
 * that "lost" cannot see: its generation was recovered through a second job.
 */
async function jobsLeftOver(pool: pg.Pool): Promise<{ total: number; locked: number; lockedBy: string[] }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await query<{ locked_by: string | null; n: number }>(pool,
      "select locked_by, count(*)::int as n from graphile_worker.jobs group by 1");
    const total = rows.reduce((a, r) => a + r.n, 0);
    if (total === 0 || Date.now() > deadline) {
      const locked = rows.filter((r) => r.locked_by !== null);
      return { total, locked: locked.reduce((a, r) => a + r.n, 0), lockedBy: locked.map((r) => `${r.locked_by} (${r.n})`) };
    }
    await sleep(250);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function printReport(report: Awaited<ReturnType<typeof buildReport>>): void {
  const { soak, baseline } = report;
  const rows: [string, string][] = [
    ["Generations (soak)", `${soak.generations} (queued over HTTP in ${soak.enqueueS} s)`],
    ["SUCCEEDED", String(soak.byStatus.SUCCEEDED)],
    ["FAILED", `${soak.byStatus.FAILED} (expected: ${soak.failedExpected}, unexpected: ${soak.failedUnexpected})`],
    ["CANCELLED", String(soak.byStatus.CANCELLED)],
    ["Lost (not terminal at the end)", `${soak.lost} (QUEUED ${soak.notTerminal.QUEUED}, RUNNING ${soak.notTerminal.RUNNING})`],
    ["Duplicated (generations with > 1 IEP)", String(soak.duplicated)],
    ["IEPs without a SUCCEEDED generation", String(soak.iepsWithoutSucceededGeneration)],
    ["SUCCEEDED generations without their IEP", String(soak.succeededWithoutIep)],
    ["Queue jobs left once all are terminal (should be 0)", `${soak.jobsLeft.total} (locked ${soak.jobsLeft.locked}${soak.jobsLeft.locked ? `, by ${soak.jobsLeft.lockedBy.join(", ")}` : ""})`],
    ["Generations in the database / expected", `${soak.generationsInDatabase} / ${soak.generationsExpectedInDatabase}`],
    ["Attempts used (sum)", String(soak.attempts.sum)],
    ["Attempts histogram (attempts: generations)", Object.entries(soak.attempts.histogram).map(([a, n]) => `${a}: ${n}`).join(", ")],
    ["Gemini requests (soak) by operation", Object.entries(soak.geminiRequestTotals).map(([op, n]) => `${op} ${n} (faulted ${soak.geminiFaulted[op] ?? 0}, ${soak.geminiFaultedPercent[op] ?? 0} %)`).join(", ")],
    ...Object.entries(soak.geminiRequests).map(([op, byFault]): [string, string] =>
      [`  ${op} by fault`, Object.entries(byFault).sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f} ${n}`).join(", ")]),
    ["Faulted outside bursts (target " + `${SETTINGS.faultRate * 100} %)`, Object.entries(soak.geminiOutsideBursts).map(([op, o]) => `${op} ${o.faulted}/${o.requests} (${o.percent} %)`).join(", ")],
    ["Requests during bursts", Object.entries(soak.geminiRequestsInBursts).map(([op, n]) => `${op} ${n}`).join(", ")],
    ["Circuit breaker opened (worker log)", String(soak.breakerOpened)],
    ["Simulator requests, all phases (its log / its counter)", `${soak.simulatorRequestsCountedFromLog} / ${soak.simulatorRequestsAllPhases}`],
    ["RECOVERED events", `${soak.recoveredEvents}${soak.recovery ? ` (killed worker was running ${soak.recovery.killedRunningGenerations}; ${soak.recovery.recoveredGenerations} generations recovered, first ${soak.recovery.firstRecoveredAfterKillS} s after the kill)` : ""}`],
    ["WAITING_FOR_GEMINI events", String(soak.waitingForGeminiEvents)],
    ["WAITING_FOR_DATABASE events", String(soak.waitingForDatabaseEvents)],
    ["Other wait events", `waiting_to_retry ${soak.events.waiting_to_retry ?? 0}, interrupted ${soak.events.interrupted ?? 0}, repairing ${soak.events.repairing ?? 0}`],
    ["Request → SUCCEEDED (all queued at once)", `p50 ${(soak.requestToSucceededMs.p50 / 1000).toFixed(1)} s, p95 ${(soak.requestToSucceededMs.p95 / 1000).toFixed(1)} s, max ${(soak.requestToSucceededMs.max / 1000).toFixed(1)} s`],
    ["Soak wall time", `${soak.wallS} s (${soak.succeededPerS} SUCCEEDED/s)`],
    ["Baseline (no faults)", `${baseline.generations} drafts in ${baseline.wallS} s (${baseline.succeededPerS} SUCCEEDED/s) ${JSON.stringify(baseline.byStatus)}`],
    ["Worker crashes (unexpected exits)", soak.workerCrashes.length === 0 ? "0" : JSON.stringify(soak.workerCrashes)],
  ];
  console.log("\nDisruptions:");
  for (const d of soak.disruptions) console.log(`  +${d.atS} s (${d.terminal} terminal): ${d.what}${d.detail === undefined ? "" : ` ${JSON.stringify(d.detail)}`}`);
  console.log("\nFAILED by reason:");
  if (soak.failed.length === 0) console.log("  (none)");
  for (const f of soak.failed) console.log(`  ${String(f.n).padStart(4)}  ${f.expected ? "expected (permanent 400 injected)" : "UNEXPECTED"}  ${f.reason.slice(0, 200)}`);
  console.log("\nWorker warnings/errors (log messages, all workers):");
  for (const [msg, n] of Object.entries(soak.workerLogWarnings)) console.log(`  ${String(n).padStart(6)}  ${msg}`);
  console.log(`\nResults (child logs: ${soak.childLogs}):\n`);
  console.log("| Measure | Value |\n|---|---|");
  for (const [name, value] of rows) console.log(`| ${name} | ${value.replaceAll("|", "\\|")} |`);
  console.log(`\n${report.pass ? "PASS" : "MISS"}: lost ${soak.lost}, duplicated ${soak.duplicated} (promise: lost 0, duplicated 0)`);
  console.log(JSON.stringify(report));
}

// Started last, so every declaration above is initialised before main() runs.
function interrupt(code: number, why: string): void {
  if (interruptedCode !== undefined) return;
  interruptedCode = code;
  console.error(why);
  void Promise.race([cleanup(), sleep(20_000)]).finally(() => process.exit(code));
}
const hardStop = setTimeout(
  () => interrupt(3, `HARD STOP: the bench ran longer than ${SETTINGS.hardStopMs / 60_000} minutes; killing everything`),
  SETTINGS.hardStopMs,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => interrupt(130, `\n${signal}: stopping every process the bench started`));
}

try {
  await main();
  clearTimeout(hardStop);
  await cleanup();
  process.exit(0);
} catch (error) {
  // Interrupted: main() failing as its processes go away is expected; interrupt() exits.
  if (interruptedCode !== undefined) await Promise.race([cleanup(), sleep(20_000)]).finally(() => process.exit(interruptedCode));
  console.error(`bench:faults broke: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  console.error(`child logs: ${logDir}`);
  clearTimeout(hardStop);
  await Promise.race([cleanup(), sleep(20_000)]);
  process.exit(1);
}
