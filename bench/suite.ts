/**
 * `npm run bench [-- --quick] [-- --only enqueue,latency] [-- --no-write]`: runs every bench module
 * in sequence (each exports `run: Bench`, bench/lib/report.ts), prints one table (figure | iepgen |
 * raw baseline | target | PASS/MISS), then every raw number as one JSON document, and records the
 * run in BENCHMARKS.md between the suite markers. A missing or throwing bench is an ERROR row; the
 * suite goes on (so does one that runs past its time limit). The 1-minute load average is noted before each bench, so a shared run shows.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { env } from "../src/env.ts";
import { writeSuiteSection } from "./lib/benchmarks-md.ts";
import { describeMachine, errorRow, loadNote, markdownTable, rowsOf, type Row } from "./lib/machine.ts";
import type { Bench, BenchResult } from "./lib/report.ts";

/** Every bench of the suite, in the order it runs. */
export const BENCHES = [
  "enqueue", "latency", "relay", "throughput", "in-flight", "fanout", "retrieval", "fairness", "rate-limit", "evidence-files", "ocr-event-loop",
] as const;

/** A bench that runs longer is reported as an ERROR row (it may leave its scratch database behind). */
const TIMEOUT_MS = 15 * 60_000;
const QUICK_TIMEOUT_MS = 5 * 60_000;
const BENCHMARKS_MD = fileURLToPath(new URL("../BENCHMARKS.md", import.meta.url));

interface Outcome {
  bench: string;
  load: { load1: number; load5: number };
  seconds: number;
  result?: BenchResult;
  error?: string;
}

async function runOne(name: string, quick: boolean): Promise<Outcome> {
  const load = loadNote();
  process.stderr.write(`bench ${name}${quick ? " (quick)" : ""}: load average ${load.load1} …\n`);
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  try {
    const module = (await import(`./${name}.ts`)) as { run?: Bench };
    if (typeof module.run !== "function") throw new Error(`bench/${name}.ts does not export run`);
    const result = await withTimeout(module.run({ quick }), quick ? QUICK_TIMEOUT_MS : TIMEOUT_MS);
    process.stderr.write(`bench ${name}: done in ${seconds()} s\n`);
    return { bench: name, load, seconds: seconds(), result };
  } catch (error) {
    const message = isMissingModule(error, name) ? `bench/${name}.ts is missing` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`bench ${name}: ERROR ${message}\n`);
    return { bench: name, load, seconds: seconds(), error: message };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`gave up after ${ms / 1000} s`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isMissingModule(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === "ERR_MODULE_NOT_FOUND" && Boolean(message?.includes(`bench/${name}.ts`));
}

function selected(only: string | undefined): string[] {
  if (!only) return [...BENCHES];
  const names = only.split(",").map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(BENCHES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown bench: ${unknown.join(", ")} (known: ${BENCHES.join(", ")})`);
  return names;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, only: { type: "string" }, "no-write": { type: "boolean", default: false } } });
  const names = selected(values.only);
  const started = performance.now();
  const machine = await describeMachine(env().DATABASE_URL);
  const outcomes: Outcome[] = [];
  for (const name of names) outcomes.push(await runOne(name, values.quick));
  const rows: Row[] = outcomes.flatMap((outcome) => outcome.result ? rowsOf(outcome.result) : [errorRow(outcome.bench, outcome.error ?? "unknown")]);
  const table = markdownTable(rows);
  console.log(table);
  console.log(JSON.stringify({ machine, quick: values.quick, benches: outcomes }, null, 2));
  if (!values["no-write"]) {
    const command = ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ");
    const loads = Object.fromEntries(outcomes.map((outcome) => [outcome.bench, outcome.load]));
    writeSuiteSection(BENCHMARKS_MD, { machine, command, table, loads, durationSeconds: (performance.now() - started) / 1000 });
    process.stderr.write(`recorded in ${BENCHMARKS_MD}\n`);
  }
}

if (import.meta.main) {
  process.on("unhandledRejection", (reason) => process.stderr.write(`a bench left an unhandled rejection (the suite goes on): ${String(reason)}\n`));
  await main();
  process.exit(process.exitCode ?? 0);
}
