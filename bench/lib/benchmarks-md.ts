/**
 * Records a suite run in BENCHMARKS.md: only the text between the suite's markers is replaced;
 * the hand-written sections around it stay. The markers are added under the intro if absent.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Machine } from "./machine.ts";

export const START_MARKER = "<!-- bench:suite:start -->";
export const END_MARKER = "<!-- bench:suite:end -->";

export interface SuiteRecord {
  machine: Machine;
  command: string;
  table: string;
  loads: Record<string, { load1: number; load5: number }>;
  durationSeconds: number;
}

/** The suite section's body (between the markers). */
export function suiteSection(record: SuiteRecord): string {
  const { machine } = record;
  const loads = Object.entries(record.loads).map(([bench, load]) => `${bench} ${load.load1}`).join(", ");
  return [
    "## Suite (`npm run bench`)",
    "",
    "Written by `bench/suite.ts` (do not edit by hand between the markers). Every figure is measured",
    "next to its raw baseline in the same run; targets are reported, never asserted.",
    "",
    `- **Machine:** ${machine.cpu}, ${machine.nproc} CPUs, ${machine.memoryGb} GB; Node ${machine.node}; Postgres ${machine.postgres}`,
    `- **Date:** ${machine.date}; **commit:** ${machine.commit}`,
    `- **Command:** \`${record.command}\` (${Math.round(record.durationSeconds)} s)`,
    `- **1-minute load average before each bench:** ${loads}`,
    ...noisyWarning(record),
    "",
    record.table,
  ].join("\n");
}

/** A line saying the run shared the machine, when the load before some bench exceeded its CPUs. */
function noisyWarning(record: SuiteRecord): string[] {
  const busy = Object.entries(record.loads).filter(([, load]) => load.load1 > record.machine.nproc).map(([bench]) => bench);
  if (busy.length === 0) return [];
  return [`- **Noisy run:** the load average exceeded the ${record.machine.nproc} CPUs before ${busy.join(", ")}; those figures (baselines included) are not representative of this machine.`];
}

/** Replaces the marked section of `markdown` (inserting markers after the intro when missing). */
export function withSuiteSection(markdown: string, section: string): string {
  const block = `${START_MARKER}\n${section}\n${END_MARKER}`;
  const start = markdown.indexOf(START_MARKER);
  const end = markdown.indexOf(END_MARKER);
  if (start !== -1 && end > start) return markdown.slice(0, start) + block + markdown.slice(end + END_MARKER.length);
  const firstSection = markdown.search(/^## /m);
  if (firstSection === -1) return `${markdown.trimEnd()}\n\n${block}\n`;
  return `${markdown.slice(0, firstSection)}${block}\n\n${markdown.slice(firstSection)}`;
}

export function writeSuiteSection(path: string, record: SuiteRecord): void {
  const markdown = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  writeFileSync(path, withSuiteSection(markdown, suiteSection(record)));
}
