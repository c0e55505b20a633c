/**
 * What the suite's benches share: a scratch database next to DATABASE_URL's (dropped afterwards),
 * a Gemini simulator in the bench process, and iepgen API and worker processes as children
 * (`node src/main.ts api|worker`), each with the environment the bench gives it. Loopback only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { signToken, type Viewer } from "../../src/auth.ts";
import { withDatabaseName } from "../../src/db/pool.ts";
import { insertSchool, insertUser } from "../../src/db/schools.ts";
import { prepareDatabase } from "../../src/db/setup.ts";
import { env } from "../../src/env.ts";
import { startGeminiSimulator, type GeminiSimulator, type GeminiSimulatorOptions } from "../../src/gemini/simulator/server.ts";
import { createLogger } from "../../src/logger.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BENCH_JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789";
/** Generation requests per minute allowed to the bench's users (the defaults would refuse a bench). */
/** A loaded 2-core machine can take this long to start a child (migrations, schema, graphile-worker). */
const START_TIMEOUT_MS = 120_000;
export const NO_RATE_LIMITS = { RATE_LIMIT_USER_PER_MINUTE: "10000000", RATE_LIMIT_SCHOOL_PER_MINUTE: "10000000" };

export interface Child {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface ApiChild extends Child {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
}

export interface Tenant {
  schoolId: string;
  userId: string;
  token: string;
  viewer: Viewer;
}

export interface BenchStack {
  databaseUrl: string;
  pool: pg.Pool;
  simulator: GeminiSimulator;
  /** Where the children send Gemini calls (the simulator, or a recording proxy in front of it). */
  geminiUrl: string;
  startApi(vars?: Record<string, string>): Promise<ApiChild>;
  startWorker(vars?: Record<string, string>): Promise<Child>;
  tenant(role?: Viewer["role"]): Promise<Tenant>;
  close(): Promise<void>;
}

/** A scratch database (migrated) plus a simulator; children started through it are stopped by close(). */
export async function createBenchStack(options: { simulator?: GeminiSimulatorOptions; geminiUrl?: (simulatorUrl: string) => Promise<string> } = {}): Promise<BenchStack> {
  const logger = createLogger("error", "stderr");
  const name = `iepgen_bench_${randomBytes(4).toString("hex")}`;
  const databaseUrl = withDatabaseName(env().DATABASE_URL, name);
  await prepareDatabase(databaseUrl, logger);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const simulator = await startGeminiSimulator({ latencyMs: 0, ...options.simulator });
  const geminiUrl = options.geminiUrl ? await options.geminiUrl(simulator.url) : simulator.url;
  const children: Child[] = [];
  const base = { DATABASE_URL: databaseUrl, GEMINI_BASE_URL: geminiUrl, JWT_SECRET: BENCH_JWT_SECRET, LOG_LEVEL: "error", HOST: "127.0.0.1" };
  return {
    databaseUrl, pool, simulator, geminiUrl,
    async startApi(vars = {}) {
      const api = await startApiChild({ ...base, PORT: "0", ...NO_RATE_LIMITS, ...vars });
      children.push(api);
      return api;
    },
    async startWorker(vars = {}) {
      const worker = await startWorkerChild(pool, { ...base, ...vars });
      children.push(worker);
      return worker;
    },
    tenant: (role = "ADMIN") => createTenant(pool, role),
    async close() {
      await Promise.allSettled(children.map((child) => child.stop()));
      await simulator.close();
      await pool.end();
      await dropDatabase(name);
    },
  };
}

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabaseName(env().DATABASE_URL, "postgres") });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  } finally {
    await admin.end();
  }
}

async function createTenant(pool: pg.Pool, role: Viewer["role"]): Promise<Tenant> {
  const school = await insertSchool(pool, `Bench school ${randomBytes(3).toString("hex")}`);
  const user = await insertUser(pool, { schoolId: school.id, email: `bench-${school.id}@example.org`, name: "Bench", role });
  const viewer: Viewer = { userId: user.id, schoolId: school.id, role };
  return { schoolId: school.id, userId: user.id, viewer, token: await signToken(viewer, BENCH_JWT_SECRET) };
}

/** A child of this process; SIGKILLed if this process exits first (e.g. the suite gave up on a bench). */
function spawnMain(mode: "api" | "worker", vars: Record<string, string>): Child & { exited: Promise<void>; hasExited(): boolean } {
  const child = spawn(process.execPath, ["src/main.ts", mode], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...vars }, stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited = false;
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exitedPromise = new Promise<void>((resolve) => child.once("exit", () => {
    process.off("exit", killOnExit);
    resolve(void (exited = true));
  }));
  return {
    child, exited: exitedPromise, hasExited: () => exited, output: () => output,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exitedPromise;
      clearTimeout(forced);
    },
  };
}

async function startApiChild(vars: Record<string, string>): Promise<ApiChild> {
  const started = spawnMain("api", vars);
  const url = await withOutput(started, () => waitUntil(async () => {
    if (started.hasExited()) throw new Error("the API process exited early");
    return /iepgen ready: .*GraphiQL at (http:\/\/\S+)\/graphql/.exec(started.output())?.[1];
  }, START_TIMEOUT_MS, "the API process to listen"));
  return { ...started, url, graphqlUrl: `${url}/graphql`, wsUrl: `${url.replace(/^http/, "ws")}/graphql` };
}

async function startWorkerChild(pool: pg.Pool, vars: Record<string, string>): Promise<Child> {
  const started = spawnMain("worker", vars);
  await withOutput(started, () => waitUntil(async () => {
    if (started.hasExited()) throw new Error("the worker process exited early");
    const { rows } = await pool.query("select 1 from worker_heartbeats where pid = $1 and role = 'worker' and cardinality(worker_ids) > 0", [started.child.pid]);
    return rows.length > 0;
  }, START_TIMEOUT_MS, "the worker process to start beating"));
  return started;
}

/** Stops a child that did not come up, and tells what it printed. */
async function withOutput<T>(started: Child, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (error) {
    await started.stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}; it printed:\n${started.output().slice(-2000)}`);
  }
}

/** Polls `check` (every 5 ms) until it returns a truthy value; throws after `timeoutMs`. */
export async function waitUntil<T>(check: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
