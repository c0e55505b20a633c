import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The project root, where child processes run. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** A child that runs longer than this is SIGKILLed, so a hang fails its test instead of stalling CI. */
export const PROCESS_TIMEOUT_MS = 60_000;

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: PATH and HOME only, plus what the test sets (never the caller's GEMINI_* etc.). */
export function cleanEnv(vars: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...vars };
}

/** Runs `node <args>` (this Node, 24) in the project root to completion with a clean environment. */
export function runNode(args: string[], vars: Record<string, string>): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: cleanEnv(vars), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const guard = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
