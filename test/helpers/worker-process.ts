import { spawn, type ChildProcess } from "node:child_process";
import { queryDatabase } from "./database.ts";
import { cleanEnv, PROCESS_TIMEOUT_MS, ROOT } from "./process.ts";
import { TEST_JWT_SECRET, waitFor } from "./stack.ts";

/** Fast recovery settings for worker processes in tests: beat every 300 ms, dead after 2 s of silence. */
export const FAST_RECOVERY_ENV = {
  WORKER_HEARTBEAT_MS: "300",
  WORKER_DEAD_AFTER_MS: "2000",
  RETRY_BASE_DELAY_MS: "200",
  OUTAGE_RETRY_DELAY_MS: "1000",
} as const;

/** A `node src/main.ts worker` child process, ready once its heartbeat row lists its graphile workers. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Its id in worker_heartbeats (the runner id recorded on what it runs). */
  runnerId: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  output(): string;
  /** SIGKILL: no shutdown code runs, as when a machine dies. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for a graceful exit (SIGKILL after 15 s). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a worker-only iepgen process on `databaseUrl`, sending Gemini calls to `geminiUrl` (the
 * test's simulator), with FAST_RECOVERY_ENV and `env` on top. SIGKILLed after PROCESS_TIMEOUT_MS × 5
 * regardless, so a hang fails its test instead of stalling CI.
 */
export async function startWorkerProcess(databaseUrl: string, geminiUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["src/main.ts", "worker"], {
    cwd: ROOT,
    env: cleanEnv({
      DATABASE_URL: databaseUrl, GEMINI_BASE_URL: geminiUrl, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: "warn",
      WORKER_CONCURRENCY: "2", ...FAST_RECOVERY_ENV, ...env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited = false;
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const guard = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT_MS * 5);
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = true;
      clearTimeout(guard);
      resolve({ code, signal });
    }));
  const runnerId = await waitFor(async () => {
    if (exited) throw new Error(`worker process exited early:\n${output}`);
    const rows = await queryDatabase<{ id: string }>(databaseUrl,
      "select id from worker_heartbeats where pid = $1 and role = 'worker' and cardinality(worker_ids) > 0", [child.pid]);
    return rows[0]?.id;
  }, 30_000, "the worker process to start beating").catch(async (error: unknown) => {
    // A worker that never came up must not outlive its test (nor hold its connections).
    if (!exited) child.kill("SIGKILL");
    await exitedPromise;
    throw error;
  });
  return {
    child, runnerId, exited: exitedPromise,
    hasExited: () => exited,
    output: () => output,
    async kill() {
      if (!exited) child.kill("SIGKILL");
      await exitedPromise;
    },
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const result = await exitedPromise;
      clearTimeout(forced);
      return result;
    },
  };
}
