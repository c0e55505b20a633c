import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { END_MARKER, START_MARKER, suiteSection, withSuiteSection } from "../bench/lib/benchmarks-md.ts";
import type { BenchResult } from "../bench/lib/report.ts";
import { serverUrl } from "./helpers/database.ts";
import { cleanEnv, ROOT } from "./helpers/process.ts";

const SUITE_TIMEOUT_MS = 150_000;

/** Runs the suite as a child (its own time limit: a quick bench on a shared 2-core machine can take a minute). */
async function runSuite(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["bench/suite.ts", ...args], {
      cwd: ROOT, env: cleanEnv({ DATABASE_URL: serverUrl() }), timeout: SUITE_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? String(error) };
  }
}

interface SuiteOutput {
  machine: { cpu: string; nproc: number; node: string; postgres: string; commit: string };
  quick: boolean;
  benches: { bench: string; load: { load1: number }; result?: BenchResult; error?: string }[];
}

/** The suite prints the table (lines starting with "|"), then one JSON document. */
function parseSuiteOutput(stdout: string): { table: string[]; json: SuiteOutput } {
  const start = stdout.indexOf("\n{");
  return { table: stdout.slice(0, start).split("\n").filter((line) => line.startsWith("|")), json: JSON.parse(stdout.slice(start + 1)) as SuiteOutput };
}

describe("npm run bench (bench/suite.ts)", () => {
  it("runs the chosen bench and prints each figure with its raw baseline and a PASS/MISS verdict, as a table and as JSON", async () => {
    const result = await runSuite(["--quick", "--only", "enqueue", "--no-write"]);
    expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ code: 0, stderr: "" });
    const { table, json } = parseSuiteOutput(result.stdout);

    expect(json.quick).toBe(true);
    expect(json.machine.nproc).toBeGreaterThan(0);
    expect(json.machine.postgres).toMatch(/^\d+/);
    expect(json.benches.map((bench) => bench.bench)).toEqual(["enqueue"]);
    const [enqueue] = json.benches;
    expect(enqueue!.error).toBeUndefined();
    expect(typeof enqueue!.load.load1).toBe("number");
    const judged = enqueue!.result!.figures.filter((figure) => figure.pass !== null);
    expect(judged.length).toBeGreaterThanOrEqual(4);
    for (const figure of judged) {
      expect(figure.baseline?.value, figure.name).toBeGreaterThan(0);
      expect(typeof figure.pass).toBe("boolean");
    }
    expect(table[0]).toBe("| bench | figure | iepgen | raw baseline | target | PASS/MISS |");
    expect(table.slice(2).length).toBe(enqueue!.result!.figures.length);
    expect(table.slice(2).filter((line) => / \| (PASS|MISS)( \(.*\))? \|$/.test(line)).length).toBe(judged.length);
  }, SUITE_TIMEOUT_MS + 10_000);

  it("refuses an unknown bench name instead of running nothing", async () => {
    const result = await runSuite(["--only", "no-such-bench", "--no-write"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown bench: no-such-bench");
  });
});

describe("the suite's section of BENCHMARKS.md", () => {
  const handWritten = "# Benchmarks\n\nIntro.\n\n## Fault soak\n\nBy hand.\n";

  it("is added under the intro, above the hand-written sections, and replaced in place on the next run", () => {
    const first = withSuiteSection(handWritten, "run one");
    expect(first).toBe(`# Benchmarks\n\nIntro.\n\n${START_MARKER}\nrun one\n${END_MARKER}\n\n## Fault soak\n\nBy hand.\n`);
    const second = withSuiteSection(first, "run two");
    expect(second).toBe(first.replace("run one", "run two"));
  });

  it("says when the run shared the machine (load above the CPU count before a bench)", () => {
    const machine = { cpu: "test CPU", nproc: 2, memoryGb: 4, node: "v24", postgres: "15", commit: "abc", date: "2026-01-01T00:00:00Z" };
    const record = { machine, command: "npm run bench", table: "| t |", durationSeconds: 10 };
    expect(suiteSection({ ...record, loads: { enqueue: { load1: 0.5, load5: 0.4 } } })).not.toContain("Noisy run");
    expect(suiteSection({ ...record, loads: { enqueue: { load1: 0.5, load5: 0.4 }, latency: { load1: 7, load5: 3 } } }))
      .toContain("**Noisy run:** the load average exceeded the 2 CPUs before latency;");
  });
});
