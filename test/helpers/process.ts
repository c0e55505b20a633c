import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
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

/** A long-running `node` child that has printed its ready line. */
export interface StartedNode {
  child: ChildProcess;
  /** The ready pattern's first capture group (e.g. the URL it listens on). */
  ready: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node <args>` in the project root with a clean environment and waits until `readyOn`
 * matches its output; rejects if it exits first. SIGKILLed after PROCESS_TIMEOUT_MS regardless.
 */
export async function startNode(
  args: string[],
  vars: Record<string, string>,
  readyOn: { stream: "stdout" | "stderr"; pattern: RegExp },
): Promise<StartedNode> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: cleanEnv(vars), stdio: ["ignore", "pipe", "pipe"] });
  const output = { stdout: "", stderr: "" };
  child.stdout!.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
  const guard = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal });
    }),
  );
  const ready = await new Promise<string>((resolve, reject) => {
    child[readyOn.stream]!.on("data", () => {
      const match = readyOn.pattern.exec(output[readyOn.stream]);
      if (match) resolve(match[1] ?? match[0]);
    });
    void exited.then(({ code, signal }) => reject(new Error(`${args.join(" ")} exited early (${code ?? signal}): ${output.stderr}`)));
  });
  return { child, ready, exited, stdout: () => output.stdout, stderr: () => output.stderr };
}

/** A TCP port free on 127.0.0.1 right now (for a child told to listen on it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
