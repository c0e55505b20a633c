/** The machine a suite run was measured on, and the table it prints and records in BENCHMARKS.md. */
import { execFileSync } from "node:child_process";
import os from "node:os";
import pg from "pg";
import { withDatabaseName } from "../../src/db/pool.ts";
import type { BenchResult, Figure } from "./report.ts";

export interface Machine {
  cpu: string;
  nproc: number;
  memoryGb: number;
  node: string;
  postgres: string;
  commit: string;
  date: string;
}

export async function describeMachine(databaseUrl: string): Promise<Machine> {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    nproc: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3 * 10) / 10,
    node: process.version,
    postgres: await postgresVersion(databaseUrl),
    commit: gitCommit(),
    date: new Date().toISOString(),
  };
}

async function postgresVersion(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: withDatabaseName(databaseUrl, "postgres") });
  try {
    await client.connect();
    return (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v;
  } catch (error) {
    return `unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function gitCommit(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return "unknown";
  }
}

/** The 1-minute load average before a bench (on 2 cores, above ~2 means the run was shared). */
export function loadNote(): { load1: number; load5: number } {
  const [load1 = 0, load5 = 0] = os.loadavg();
  return { load1: Math.round(load1 * 100) / 100, load5: Math.round(load5 * 100) / 100 };
}

/** A suite row: one figure of one bench, or an ERROR row for a bench that could not run. */
export interface Row {
  bench: string;
  figure: string;
  iepgen: string;
  baseline: string;
  target: string;
  verdict: string;
}

export function rowsOf(result: BenchResult): Row[] {
  return result.figures.map((figure) => ({
    bench: result.bench,
    figure: figure.name,
    iepgen: formatValue(figure.value, figure.unit),
    baseline: figure.baseline ? `${formatValue(figure.baseline.value, figure.baseline.unit)} (${figure.baseline.name})` : "—",
    target: figure.target,
    verdict: verdictOf(figure),
  }));
}

export function errorRow(bench: string, message: string): Row {
  return { bench, figure: "(bench did not run)", iepgen: "—", baseline: "—", target: "—", verdict: `ERROR: ${message.replace(/\s+/g, " ").trim().slice(0, 200)}` };
}

function verdictOf(figure: Figure): string {
  const verdict = figure.pass === null ? "info" : figure.pass ? "PASS" : "MISS";
  return figure.note ? `${verdict} (${figure.note})` : verdict;
}

function formatValue(value: number, unit: string): string {
  return Number.isFinite(value) ? `${value} ${unit}` : "n/a";
}

const HEADER = ["bench", "figure", "iepgen", "raw baseline", "target", "PASS/MISS"];

/** The rows as a Markdown table (also what the console shows). */
export function markdownTable(rows: Row[]): string {
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  const lines = [`| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${[row.bench, row.figure, row.iepgen, row.baseline, row.target, row.verdict].map(escape).join(" | ")} |`);
  return lines.join("\n");
}
