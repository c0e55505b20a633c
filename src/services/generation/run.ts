import type pg from "pg";
import { readyEvidenceTitles } from "../../db/evidence.ts";
import { changeGeneration, findGenerationForTask, type Generation } from "../../db/generations.ts";
import { findIep, insertIep } from "../../db/ieps.ts";
import { withTransaction } from "../../db/pool.ts";
import { rescheduleGenerateIep } from "../../jobs/generate_iep.ts";
import { outageRetryAt } from "../../jobs/outage.ts";
import { findStudent, type Student } from "../../db/students.ts";
import type { Gemini } from "../../gemini/client.ts";
import { GeminiRequestError, GeminiUnavailableError, messageOf } from "../../gemini/resilience.ts";
import type { Logger } from "../../logger.ts";
import { citedChunkIds, IEP_SECTION_KINDS, SECTION_FIELD, type IepContent, type IepSectionKind } from "../../iep/content.ts";
import { buildIepPrompt, SECTION_RETRIEVAL_QUERIES, type PromptChunk } from "../../iep/prompt.ts";
import {
  checkIepContent,
  iepContentSchemaFor,
  iepPeriod,
  responseJsonSchema,
  sectionRequirements,
  sectionSchemaFor,
  type IepPeriod,
  type SectionRequirements,
} from "../../iep/rules.ts";
import { searchStudentEvidenceMany } from "../retrieval.ts";
import { createDeltaPublisher, type DeltaPublisher } from "./deltas.ts";
import { DraftRejectedError, GenerationCancelledError, PermanentGenerationError } from "./errors.ts";
import type { RunningGenerations } from "./running.ts";

export interface GenerationDeps {
  pool: pg.Pool;
  gemini: Gemini;
  logger: Logger;
  running: RunningGenerations;
  /** How often streamed text is flushed to subscribers (default 50 ms). */
  deltaIntervalMs?: number;
  /** How long a generation waits after a Gemini outage before trying again (default 30 s). */
  outageRetryDelayMs?: number;
}

const CHUNKS_PER_SECTION = 6;
const EXPECTED_DRAFT_CHARS = 6000;
const DRAFT_PROGRESS = { start: 0.25, end: 0.8, checkpoints: [0.4, 0.55, 0.7] } as const;

/**
 * Runs one generation: retrieving → drafting (streamed) → validating → saving. The graphile-worker
 * task and `generateIep(async: false)` both call this. Every stage is a stored, NOTIFYed event.
 * How a run ends:
 * - cancelled (from any process): the Gemini call is aborted, nothing is saved;
 * - Gemini unavailable, or the worker shutting down: back to QUEUED with the attempt refunded and
 *   the job re-added (later, or at once), so these faults delay work but never fail it;
 * - any other failure: back to QUEUED and rethrown, so the queue retries with backoff; a permanent
 *   one (no evidence, request rejected) or the last attempt marks it FAILED.
 * Returns the generation as it ends up.
 */
export async function runGeneration(
  deps: GenerationDeps,
  generationId: string,
  options: { isFinalAttempt: boolean; signal?: AbortSignal },
): Promise<Generation | undefined> {
  const registration = deps.running.register(generationId, options.signal);
  const signal = registration.signal;
  try {
    const started = await changeGeneration(
      deps.pool,
      generationId,
      { status: "RUNNING", stage: "starting", progress: 0.02, message: "Starting", error: null, incrementAttempts: true, markStarted: true },
      ["QUEUED", "RUNNING"],
    );
    if (!started) return findGenerationForTask(deps.pool, generationId);
    const logger = deps.logger.child({ generationId, attempt: started.attempts });
    const run = new GenerationRun(deps, started, signal, logger);
    try {
      return await run.execute();
    } catch (error) {
      return await run.handleFailure(error, options.isFinalAttempt);
    }
  } finally {
    registration.release();
  }
}

class GenerationRun {
  private latest: Generation;
  private readonly deltas: DeltaPublisher;
  private readonly deps: GenerationDeps;
  private readonly signal: AbortSignal;
  private readonly logger: Logger;

  constructor(deps: GenerationDeps, generation: Generation, signal: AbortSignal, logger: Logger) {
    this.deps = deps;
    this.latest = generation;
    this.signal = signal;
    this.logger = logger;
    this.deltas = createDeltaPublisher(deps.pool, { schoolId: generation.school_id, generationId: generation.id }, deps.deltaIntervalMs);
    this.deltas.release(generation.last_seq);
  }

  async execute(): Promise<Generation> {
    const generation = this.latest;
    const student = await findStudent(this.deps.pool, generation.school_id, generation.student_id);
    if (!student) throw new PermanentGenerationError("The student no longer exists");
    const period = iepPeriod(generation.academic_year);
    const requirements = sectionRequirements(student.date_of_birth, period);
    const sections = this.sectionsToDraft(requirements);
    const baseContent = await this.loadBaseContent();

    await this.step("retrieving", 0.1, `Finding the most relevant evidence for ${sections.length} section(s)`);
    const chunks = await this.retrieve(student, sections);

    await this.step("drafting", DRAFT_PROGRESS.start, `Drafting with ${this.deps.gemini.config.model} from ${chunks.length} evidence excerpts`);
    const schema = generation.kind === "SECTION" ? sectionSchemaFor(sections[0]!, requirements) : iepContentSchemaFor(requirements);
    const { systemInstruction, prompt } = buildIepPrompt({
      student: { firstName: student.first_name, grade: student.grade, dateOfBirth: student.date_of_birth,
        disabilityCategories: student.disability_categories, primaryLanguage: student.primary_language },
      period,
      requirements,
      chunks,
      instructions: generation.instructions,
      ...(generation.kind === "SECTION" ? { onlySection: sections[0]!, existingContent: baseContent } : {}),
    });
    const draft = await this.draft(systemInstruction, prompt, responseJsonSchema(schema));

    await this.step("validating", 0.85, "Checking the draft against IDEA §300.320 and its citations");
    const content = this.validate(draft.text, schema, sections, baseContent, { requirements, period }, new Set(chunks.map((c) => c.id)));

    await this.step("saving", 0.95, "Saving the IEP draft");
    return this.save(content, draft.model);
  }

  private sectionsToDraft(requirements: SectionRequirements): IepSectionKind[] {
    if (this.latest.kind === "SECTION") return [this.latest.section_kind as IepSectionKind];
    return IEP_SECTION_KINDS.filter(
      (kind) => (kind !== "TRANSITION" || requirements.transition) && (kind !== "TRANSFER_OF_RIGHTS" || requirements.transferOfRights),
    );
  }

  private async loadBaseContent(): Promise<IepContent | undefined> {
    if (!this.latest.base_iep_id) return undefined;
    const base = await findIep(this.deps.pool, this.latest.school_id, this.latest.base_iep_id);
    if (!base) throw new PermanentGenerationError("The IEP whose section is being redrafted no longer exists");
    return base.content as IepContent;
  }

  private async retrieve(student: Student, sections: IepSectionKind[]): Promise<PromptChunk[]> {
    const ready = await readyEvidenceTitles(this.deps.pool, student.school_id, student.id);
    if (ready.size === 0) throw new PermanentGenerationError("The student has no READY evidence yet: add evidence and wait for it to be ingested");
    const chunks = new Map<string, PromptChunk>();
    const queries = sections.map((section) => [SECTION_RETRIEVAL_QUERIES[section], this.latest.instructions].filter(Boolean).join(" "));
    const perSection = await searchStudentEvidenceMany(this.deps, {
      schoolId: student.school_id, studentId: student.id, queries, limit: CHUNKS_PER_SECTION, signal: this.signal,
    });
    for (const matches of perSection) {
      for (const { chunk } of matches) {
        const source = ready.get(chunk.evidence_id);
        if (source && !chunks.has(chunk.id)) {
          chunks.set(chunk.id, { id: chunk.id, evidenceTitle: source.title, evidenceKind: source.kind, text: chunk.text });
        }
      }
    }
    return [...chunks.values()];
  }

  private async draft(systemInstruction: string, prompt: string, schema: object) {
    let received = 0;
    let checkpoint = 0;
    let pendingCheckpoint: Promise<void> = Promise.resolve();
    // Checkpoint events are stored in the background while the stream goes on. If the stream fails
    // (cancelled, transient error), a queued checkpoint rejects too (the generation is no longer
    // RUNNING) and nothing awaits it: mark each as handled at once, so it cannot become an
    // unhandled rejection (which would crash the worker process), and let it settle before rethrowing.
    const queueCheckpoint = (store: () => Promise<void>) => {
      pendingCheckpoint = pendingCheckpoint.then(store);
      pendingCheckpoint.catch(() => undefined);
    };
    const result = await this.deps.gemini.streamJson({
      systemInstruction,
      prompt,
      responseJsonSchema: schema,
      signal: this.signal,
      onDelta: (text) => {
        this.deltas.push(text);
        received += text.length;
        const next = DRAFT_PROGRESS.checkpoints[checkpoint];
        if (next !== undefined && progressFor(received) >= next) {
          checkpoint += 1;
          queueCheckpoint(() => this.step("drafting", next, `Drafting… about ${received} characters so far`));
        }
      },
      onRestart: (attempt, reason) => {
        this.deltas.discard();
        received = 0;
        checkpoint = 0;
        queueCheckpoint(() =>
          this.step("drafting", DRAFT_PROGRESS.start, `Restarting the draft (try ${attempt}) after a ${reason}; discard partial text`));
      },
    }).catch(async (error: unknown) => {
      await pendingCheckpoint.catch(() => undefined);
      throw error;
    });
    await pendingCheckpoint;
    await this.deltas.flushNow();
    return result;
  }

  private validate(
    text: string,
    schema: { safeParse(value: unknown): { success: boolean; data?: unknown; error?: { issues: { path: PropertyKey[]; message: string }[] } } },
    sections: IepSectionKind[],
    base: IepContent | undefined,
    rules: { requirements: SectionRequirements; period: IepPeriod },
    allowedChunkIds: ReadonlySet<string>,
  ): IepContent {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DraftRejectedError("The model's draft was not valid JSON");
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issues = (parsed.error?.issues ?? []).slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`);
      throw new DraftRejectedError(`The draft does not match the IEP schema: ${issues.join("; ")}`);
    }
    const content = (this.latest.kind === "SECTION" ? { ...base, [SECTION_FIELD[sections[0]!]]: parsed.data } : parsed.data) as IepContent;
    const violations = checkIepContent(content, { ...rules, allowedChunkIds: new Set([...allowedChunkIds, ...citedChunkIds(base)]) });
    if (violations.length > 0) {
      throw new DraftRejectedError(`The draft breaks IEP rules: ${violations.slice(0, 5).map((v) => `${v.path}: ${v.message}`).join("; ")}`);
    }
    return content;
  }

  private async save(content: IepContent, model: string): Promise<Generation> {
    const generation = this.latest;
    const modelName = this.deps.gemini.config.simulated ? `${model} (iepgen simulator)` : model;
    return withTransaction(this.deps.pool, async (client) => {
      const iep = await insertIep(client, {
        schoolId: generation.school_id, studentId: generation.student_id, academicYear: generation.academic_year,
        content, model: modelName, generationId: generation.id,
      });
      const done = await changeGeneration(
        client,
        generation.id,
        { status: "SUCCEEDED", progress: 1, stage: "done", message: `IEP draft saved as version ${iep.version}`, iepId: iep.id, markFinished: true },
        ["RUNNING"],
      );
      if (!done) throw new GenerationCancelledError(generation.id);
      this.latest = done;
      return done;
    });
  }

  /** Stores a stage event while the generation is still RUNNING; throws if it was cancelled. */
  private async step(stage: string, progress: number, message: string): Promise<void> {
    this.signal.throwIfAborted();
    await this.deltas.holdForStoredEvent();
    try {
      const updated = await changeGeneration(this.deps.pool, this.latest.id, { stage, progress, message }, ["RUNNING"]);
      if (!updated) throw new GenerationCancelledError(this.latest.id);
      this.latest = updated;
    } finally {
      this.deltas.release(this.latest.last_seq);
    }
  }

  async handleFailure(error: unknown, isFinalAttempt: boolean): Promise<Generation | undefined> {
    this.deltas.discard();
    const current = await findGenerationForTask(this.deps.pool, this.latest.id);
    if (error instanceof GenerationCancelledError || current?.status === "CANCELLED" || this.signal.reason instanceof GenerationCancelledError) {
      this.logger.info("generation cancelled");
      return current;
    }
    const reason = error instanceof Error ? error.message : String(error);
    if (this.signal.aborted) {
      return this.requeueWithoutAttempt(reason, 0, "interrupted", "The worker shut down mid-run; queued again for another worker");
    }
    const retryAt = error instanceof GeminiUnavailableError ? outageRetryAt(this.latest.created_at, this.deps.outageRetryDelayMs) : undefined;
    if (retryAt) return this.requeueWithoutAttempt(reason, retryAt.getTime() - Date.now(), "waiting for Gemini", "Gemini is unavailable; trying again");
    const permanent = error instanceof PermanentGenerationError || error instanceof GeminiRequestError;
    if (permanent || isFinalAttempt || this.latest.attempts >= this.latest.max_attempts) {
      this.logger.warn({ err: messageOf(error) }, "generation failed");
      return (await changeGeneration(this.deps.pool, this.latest.id,
        { status: "FAILED", stage: "failed", message: "Generation failed", error: reason, markFinished: true }, ["RUNNING"])) ?? current;
    }
    this.logger.warn({ err: messageOf(error) }, "generation attempt failed; the queue will retry it");
    return this.requeueForRetry(reason, error);
  }

  /**
   * The attempt was cut short by something outside the draft: Gemini is down (breaker open, or
   * transient faults outlasted the in-call retries) or the worker is shutting down. It does not
   * count: the generation goes back to QUEUED and its job is added again to run after `delayMs`,
   * so such faults delay work instead of using up attempts (an outage, for up to 24 h).
   */
  private async requeueWithoutAttempt(reason: string, delayMs: number, stage: string, why: string): Promise<Generation | undefined> {
    const runAt = new Date(Date.now() + delayMs);
    this.logger.warn({ err: reason, runAt, stage }, "generation requeued without using an attempt");
    return withTransaction(this.deps.pool, async (client) => {
      const requeued = await changeGeneration(client, this.latest.id, {
        status: "QUEUED", stage, error: reason, refundAttempt: true,
        message: `${why} at ${runAt.toISOString()} (this does not use up an attempt)`,
      }, ["RUNNING"]);
      if (requeued) await rescheduleGenerateIep(client, { generationId: requeued.id }, requeued.priority, runAt);
      return requeued;
    });
  }

  private async requeueForRetry(reason: string, error: unknown): Promise<never> {
    await changeGeneration(this.deps.pool, this.latest.id, {
      status: "QUEUED", stage: "waiting to retry", error: reason,
      message: `Attempt ${this.latest.attempts} of ${this.latest.max_attempts} failed; retrying shortly`,
    }, ["RUNNING"]);
    throw error;
  }
}

function progressFor(receivedChars: number): number {
  const fraction = Math.min(1, receivedChars / EXPECTED_DRAFT_CHARS);
  return DRAFT_PROGRESS.start + fraction * (DRAFT_PROGRESS.end - DRAFT_PROGRESS.start);
}
