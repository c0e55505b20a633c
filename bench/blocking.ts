/**
 * Measures how long two CPU-bound steps hold the event loop (the issue's target: under 50 ms each):
 *   (a) chunkText (ingestion) of a 200,000-character evidence document (deterministic prose with
 *       numbers, dates, abbreviations and lists, as evaluations and progress notes are);
 *   (b) validating a large IEP draft as a generation does (src/services/generation/run.ts
 *       validate()): JSON.parse of the model's text, safeParse with a fresh iepContentSchemaFor
 *       (each run builds its own), then checkIepContent. The draft is the Gemini simulator's, for
 *       48 evidence chunks (8 sections × 6), grown to ~260,000 characters of JSON (about 65k tokens,
 *       Gemini 2.5's maximum output), so it is the largest draft a generation can receive.
 * Each is timed per synchronous call with performance.now() (first call cold, then N runs after a
 * warm-up), next to a raw baseline on the same input: (a) text.split(/\n\n/) and a loop over every
 * character, (b) JSON.parse alone. A second pass runs the same calls with monitorEventLoopDelay
 * enabled, yielding between calls, and prints the largest event-loop delay it saw.
 *
 * Run: npm run bench:blocking [-- --runs 30]
 * Prints a table (PASS/MISS against 50 ms), then the raw numbers as JSON on the last line.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { defaultGeneratedText } from "../src/gemini/simulator/generation.ts";
import { citedChunkIds, type IepContent } from "../src/iep/content.ts";
import { buildIepPrompt, type PromptChunk, type PromptStudent } from "../src/iep/prompt.ts";
import { checkIepContent, iepContentSchemaFor, iepPeriod, responseJsonSchema, sectionRequirements } from "../src/iep/rules.ts";
import { chunkText } from "../src/services/chunking.ts";
import { seededRandom } from "../src/gemini/simulator/random.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "30" }, warmup: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
const TARGET_MS = 50;
const DOCUMENT_CHARS = 200_000;
const DRAFT_CHARS = 260_000;
const EVIDENCE_CHUNKS = 48;
const MONITOR_RESOLUTION_MS = 1;

// ---------------------------------------------------------------------------------------------
// Inputs


const SENTENCES: ((r: Rng) => string)[] = [
  (r) => `On the ${r.pick(TESTS)}, ${r.pick(NAMES)} earned a standard score of ${r.int(55, 125)} (${r.int(1, 95)}th percentile).`,
  (r) => `Oral reading fluency rose from ${r.int(12, 60)} to ${r.int(40, 120)} words correct per minute with ${r.int(70, 99)}% accuracy.`,
  (r) => `During ${r.int(3, 12)} observations of ${r.int(15, 45)} minutes, ${r.pick(NAMES)} was on task in ${r.int(30, 95)}% of intervals.`,
  (r) => `Dr. ${r.pick(SURNAMES)} noted on ${r.date()} that the student benefits from visual schedules, e.g. a first/then board.`,
  (r) => `${r.pick(NAMES)} solved ${r.int(2, 20)} of ${r.int(20, 25)} two-step word problems; errors involved regrouping and place value.`,
  (r) => `Math computation fluency was ${r.int(5, 40)} digits correct in ${r.int(1, 4)} minutes, compared with a grade-level benchmark of ${r.int(30, 60)}.`,
  (r) => `Attendance was ${r.int(80, 100)}.${r.int(0, 9)}% for the semester, with ${r.int(0, 9)} tardies and ${r.int(0, 5)} early dismissals.`,
  (r) => `The team discussed movement breaks every ${r.int(10, 30)} minutes, preferential seating and extended time (1.5x) on tests.`,
  (r) => `Parents report that ${r.pick(NAMES)} completes homework independently on ${r.int(1, 5)} of 5 school nights.`,
  (r) => `Speech-language sessions targeted /r/ and /s/ blends; accuracy in sentences improved from ${r.int(10, 50)}% to ${r.int(50, 95)}%.`,
  (r) => `Writing samples averaged ${r.int(20, 150)} words with ${r.int(1, 12)} spelling errors per 100 words and ${r.int(40, 95)}% correct capitalization.`,
  (r) => `Why does ${r.pick(NAMES)} avoid group work? Staff think peer conflict at recess (${r.int(2, 9)} incidents since ${r.date()}) plays a part.`,
  (r) => `A functional behavior assessment found that ${r.int(60, 90)}% of incidents occur during unstructured transitions!`,
  (r) => `Fine-motor screening: copies ${r.int(3, 9)} of 9 VMI shapes; grip strength is within normal limits.`,
];
const TESTS = ["WIAT-4", "WISC-V", "KTEA-3", "CELF-5", "Woodcock-Johnson IV", "DIBELS 8", "BASC-3", "Vineland-3"];
const NAMES = ["Maya", "Sam", "Leo", "Ana", "Noah", "Zoe", "Omar", "Ivy", "Theo", "Lena"];
const SURNAMES = ["Alvarez", "Okafor", "Nguyen", "Schmidt", "Patel", "Kowalski", "Haddad"];
const HEADINGS = ["Background", "Reading", "Mathematics", "Written expression", "Communication", "Behavior", "Adaptive skills", "Summary"];

interface Rng {
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  date(): string;
}

function rng(seed: number): Rng {
  const next = seededRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    date: () => `${int(2024, 2026)}-${String(int(1, 12)).padStart(2, "0")}-${String(int(1, 28)).padStart(2, "0")}`,
  };
}

/** One paragraph: a heading line, a short bullet list, or 3–8 sentences of prose. */
function paragraph(r: Rng): string {
  const kind = r.int(0, 9);
  if (kind === 0) return `Section ${r.int(1, 12)}: ${r.pick(HEADINGS)}`;
  if (kind === 1) return Array.from({ length: r.int(2, 5) }, () => `- ${r.pick(SENTENCES)(r)}`).join("\n");
  return Array.from({ length: r.int(3, 8) }, () => r.pick(SENTENCES)(r)).join(" ");
}

/** A deterministic evidence document of exactly `chars` characters, in paragraphs. */
function evidenceDocument(chars: number, seed = 20_260_815): string {
  const r = rng(seed);
  const paragraphs: string[] = [];
  let length = 0;
  while (length < chars) {
    const next = paragraph(r);
    paragraphs.push(next);
    length += next.length + 2;
  }
  return paragraphs.join("\n\n").slice(0, chars);
}

/** A deterministic v4 UUID. */
function uuid(r: Rng): string {
  const hex = (n: number) => Array.from({ length: n }, () => r.int(0, 15).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${r.pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`;
}

const STUDENT: PromptStudent = {
  firstName: "Sam", grade: "11", dateOfBirth: "2009-09-01", disabilityCategories: ["INTELLECTUAL_DISABILITY", "SPEECH_OR_LANGUAGE_IMPAIRMENT"],
  primaryLanguage: "English",
};
const EVIDENCE_KINDS = ["EVALUATION", "PROGRESS_NOTE", "TEACHER_OBSERVATION", "PARENT_INPUT", "ASSESSMENT"];

/** A large, valid full-IEP draft (the simulator's, grown to `chars`), and what validating it needs. */
function largeDraft(document: string, chars: number) {
  const period = iepPeriod("2026-2027");
  const requirements = sectionRequirements(STUDENT.dateOfBirth, period);
  const r = rng(7);
  const chunks: PromptChunk[] = chunkText(document).slice(0, EVIDENCE_CHUNKS).map((text, index) => ({
    id: uuid(r), evidenceKind: EVIDENCE_KINDS[index % EVIDENCE_KINDS.length]!, evidenceTitle: `${HEADINGS[index % HEADINGS.length]} notes ${index + 1}`, text,
  }));
  const { systemInstruction, prompt } = buildIepPrompt({ student: STUDENT, period, requirements, chunks });
  const body = {
    systemInstruction: { parts: [{ text: systemInstruction }] },
    contents: [{ role: "user", parts: [{ text: prompt }] }],
    generationConfig: { responseMimeType: "application/json", responseJsonSchema: responseJsonSchema(iepContentSchemaFor(requirements)) },
  };
  const ids = chunks.map((chunk) => chunk.id);
  const draft = grow(JSON.parse(defaultGeneratedText(body)) as IepContent, ids, chars);
  return { text: JSON.stringify(draft), requirements, period, allowedChunkIds: new Set(ids) };
}

/** Adds copies of the draft's goals, statements, services and supports (citing all chunks in turn) until its JSON reaches `chars`. */
function grow(draft: IepContent, ids: string[], chars: number): IepContent {
  const cite = (i: number) => [ids[i % ids.length]!, ids[(i + 7) % ids.length]!];
  const { presentLevels: levels, annualGoals, services, assessmentParticipation } = draft;
  const seeds = {
    academic: [...levels.academicAchievement], functional: [...levels.functionalPerformance], goals: [...annualGoals.goals],
    special: [...services.specialEducation], aids: [...services.supplementaryAids],
  };
  for (let i = 0; JSON.stringify(draft).length < chars; i++) {
    const at = <T>(list: T[]) => list[i % list.length]!;
    levels.academicAchievement.push({ ...at(seeds.academic), citations: cite(i) });
    levels.functionalPerformance.push({ ...at(seeds.functional), citations: cite(i + 1) });
    const goal = at(seeds.goals);
    annualGoals.goals.push({ ...goal, area: `${goal.area} (${i + 2})`, citations: cite(i + 2),
      shortTermObjectives: [...goal.shortTermObjectives, `By the end of quarter ${(i % 4) + 1}, ${goal.criterion}`] });
    services.specialEducation.push({ ...at(seeds.special), frequency: `${(i % 5) + 1} times per week` });
    if (seeds.aids.length > 0) services.supplementaryAids.push(`${at(seeds.aids)} (${i + 2})`);
    assessmentParticipation.accommodations.push(`Accommodation ${i + 2}: extended time (1.5x) in a small group`);
  }
  return draft;
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Timing {
  firstMs: number;
  p50Ms: number;
  maxMs: number;
  /** Main-thread CPU time of the cold first call. */
  firstCpuMs: number;
  /** The largest main-thread CPU time of one call: wall time minus waiting while descheduled on a busy machine. */
  cpuMaxMs: number;
}

let sink = 0;

/** Times one synchronous call (wall and main-thread CPU): the first (cold), WARMUP more, then RUNS measured ones. */
function time(call: () => number, prepare: () => void = () => undefined): Timing {
  const once = () => {
    prepare();
    const cpuStart = process.threadCpuUsage();
    const start = performance.now();
    sink += call();
    const wallMs = performance.now() - start;
    const cpu = process.threadCpuUsage(cpuStart);
    return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  const first = once();
  for (let i = 0; i < WARMUP; i++) once();
  const samples = Array.from({ length: RUNS }, once);
  const wall = samples.map((sample) => sample.wallMs).sort((a, b) => a - b);
  return {
    firstMs: round(first.wallMs), firstCpuMs: round(first.cpuMs), p50Ms: round(wall[Math.floor((wall.length - 1) / 2)]!), maxMs: round(wall.at(-1)!),
    cpuMaxMs: round(Math.max(...samples.map((sample) => sample.cpuMs))),
  };
}

/** The largest event-loop delay while `calls` run RUNS times each, yielding between calls. */
async function monitoredMaxDelayMs(calls: (() => number)[]): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: MONITOR_RESOLUTION_MS });
  histogram.enable();
  await sleep(5 * MONITOR_RESOLUTION_MS); // the histogram records the gap between its ticks: let it tick first
  for (let i = 0; i < RUNS; i++) {
    for (const call of calls) {
      sink += call();
      await sleep(2 * MONITOR_RESOLUTION_MS);
    }
  }
  histogram.disable();
  return round(Math.max(0, histogram.max / 1e6 - MONITOR_RESOLUTION_MS));
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// The runs

const document = evidenceDocument(DOCUMENT_CHARS);
const chunk = () => chunkText(document).length;
const chunkBaseline = () => {
  let total = 0;
  for (const part of document.split(/\n\n/)) total += part.length;
  for (let i = 0; i < document.length; i++) if (document.charCodeAt(i) === 46) total++;
  return total;
};
// Timed before the draft is built (building it chunks the document), so "first" is a cold call.
const chunkTiming = time(chunk);

const draft = largeDraft(document, DRAFT_CHARS);
let schema = iepContentSchemaFor(draft.requirements);
/** What GenerationRun.validate() does with the model's text; throws if the draft would be rejected. */
const validate = () => {
  const parsed = schema.safeParse(JSON.parse(draft.text));
  if (!parsed.success) throw new Error(`bench draft is not schema-valid: ${parsed.error.issues[0]?.message}`);
  const allowedChunkIds = new Set([...draft.allowedChunkIds, ...citedChunkIds(undefined)]);
  const violations = checkIepContent(parsed.data as IepContent, { requirements: draft.requirements, period: draft.period, allowedChunkIds });
  if (violations.length > 0) throw new Error(`bench draft breaks IEP rules: ${violations[0]!.path}: ${violations[0]!.message}`);
  return violations.length + 1;
};
/** Each generation builds its own schema before drafting (outside the validate() block timed here). */
const freshSchema = () => void (schema = iepContentSchemaFor(draft.requirements));
const parseBaseline = () => (JSON.parse(draft.text) as object) && 1;

const results = {
  chunkText: { chars: document.length, chunks: chunk(), ...chunkTiming },
  chunkBaseline: time(chunkBaseline),
  validateDraft: { chars: draft.text.length, goals: (JSON.parse(draft.text) as IepContent).annualGoals.goals.length, ...time(validate, freshSchema) },
  parseBaseline: time(parseBaseline),
  eventLoopMaxDelayMs: await monitoredMaxDelayMs([chunk, () => (freshSchema(), validate())]),
  runs: RUNS,
  warmup: WARMUP,
  targetMs: TARGET_MS,
};

const verdict = (t: Timing) => (t.maxMs < TARGET_MS ? "PASS" : "MISS");
const rows = [
  ["operation", "input", "first ms", "p50 ms", "max ms", "cpu max ms", `< ${TARGET_MS} ms`],
  ["chunkText", `${results.chunkText.chars} chars → ${results.chunkText.chunks} chunks`, ...numbers(results.chunkText), verdict(results.chunkText)],
  ["  baseline: split + char loop", "same text", ...numbers(results.chunkBaseline), ""],
  ["validate draft", `${results.validateDraft.chars} chars, ${results.validateDraft.goals} goals`, ...numbers(results.validateDraft), verdict(results.validateDraft)],
  ["  baseline: JSON.parse", "same text", ...numbers(results.parseBaseline), ""],
  ["event-loop max delay (both, monitored)", `${RUNS} runs each`, "", "", results.eventLoopMaxDelayMs.toFixed(2), "",
    results.eventLoopMaxDelayMs < TARGET_MS ? "PASS" : "MISS"],
];
function numbers(t: Timing): string[] {
  return [t.firstMs, t.p50Ms, t.maxMs, t.cpuMaxMs].map((n) => n.toFixed(2));
}
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
for (const row of rows) console.log(row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  "));
console.log(`(wall ms per call over ${RUNS} runs after ${WARMUP} warm-up; "first" is the cold first call; PASS/MISS on wall max;` +
  ` cpu max = main-thread CPU of the slowest call, so a wall max far above it is the machine, not the code; sink ${sink > 0 ? "ok" : "?"})`);
console.log(JSON.stringify(results));
