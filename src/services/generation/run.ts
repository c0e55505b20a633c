import type pg from "pg";
import { findGenerationForTask, type Generation, type RunContext } from "../../db/generations.ts";
import type { Guardian, Student } from "../../db/students.ts";
import type { Gemini } from "../../gemini/client.ts";
import type { RetryTimings } from "../../jobs/retry-policy.ts";
import * as lifecycle from "../../lifecycle/generation.ts";
import type { Logger } from "../../logger.ts";
import { Pseudonymizer } from "../../privacy/pseudonymize.ts";
import { IEP_SECTION_KINDS, type IepContent, type IepSectionKind } from "../../iep/content.ts";
import { buildIepPrompt, SECTION_RETRIEVAL_QUERIES, type PromptChunk } from "../../iep/prompt.ts";
import { periodOfRow, sectionRequirements, type SectionRequirements } from "../../iep/rules.ts";
import { DEFAULT_TEMPLATE, parseTemplateVersion, type TemplateVersion } from "../../iep/templates.ts";
import { draftSchemas } from "./draft-shape.ts";
import { searchStudentEvidenceMany } from "../retrieval.ts";
import { createDeltaPublisher, type DeltaPublisher } from "./deltas.ts";
import { DraftRejectedError, PermanentGenerationError, RunSupersededError } from "./errors.ts";
import { finishFailedRun, saveDraft } from "./finish.ts";
import type { RunningGenerations } from "./running.ts";
import { repairPrompt, validateDraft, type DraftRules } from "./validate.ts";

export interface GenerationDeps {
  pool: pg.Pool;
  gemini: Gemini;
  logger: Logger;
  running: RunningGenerations;
  /** This process's id (its worker_heartbeats row), recorded on the generations it runs. */
  runnerId: string;
  /** How long failed or interrupted runs wait before their next try (defaults: DEFAULT_RETRY_TIMINGS). */
  retry?: RetryTimings;
  /** How often streamed text is flushed to subscribers (default 50 ms). */
  deltaIntervalMs?: number;
}

const CHUNKS_PER_SECTION = 6;
const EXPECTED_DRAFT_CHARS = 6000;
const DRAFT_PROGRESS = { start: 0.25, end: 0.8, checkpoints: [0.4, 0.55, 0.7] } as const;
const FIRST_STEP: lifecycle.StepEvent = { stage: "retrieving", progress: 0.1, message: "Finding the most relevant evidence for each section" };

/**
 * Runs one generation: retrieving → drafting (streamed) → validating (one repair request if the
 * draft is invalid) → saving. The graphile-worker task and `generateIep(async: false)` both call
 * this; every stage is a lifecycle transition (stored, NOTIFYed). A failure is classified once
 * (src/jobs/failure.ts) and ends the run as CANCELLED (nothing more written), QUEUED again with its
 * job re-added (outage, shutdown, database fault: attempt refunded; a failed attempt: backoff), or
 * FAILED. Returns the generation as it ends up.
 *
 * Nothing that identifies the student reaches Gemini: retrieval queries, the prompt and the repair
 * request are masked by one Pseudonymizer per run (src/privacy/), and the model's answer (streamed
 * text, and the stored IEP after validation) has the real values put back.
 */
export async function runGeneration(deps: GenerationDeps, generationId: string, options: { signal?: AbortSignal } = {}): Promise<Generation | undefined> {
  const registration = deps.running.register(generationId, options.signal);
  try {
    const started = await lifecycle.startRun({ db: deps.pool, log: deps.logger }, generationId, deps.runnerId, FIRST_STEP);
    if (!started) return findGenerationForTask(deps.pool, generationId);
    const logger = deps.logger.child({ generationId, attempt: started.generation.attempts });
    const run = new GenerationRun({ ...deps, logger }, started.generation, started.context, registration.signal);
    try {
      return await run.execute();
    } catch (error) {
      run.discardText();
      return await finishFailedRun({ ...deps, logger }, run.latest, error, registration.signal);
    }
  } finally {
    registration.release();
  }
}

class GenerationRun {
  latest: Generation;
  private readonly deltas: DeltaPublisher;
  private readonly deps: GenerationDeps;
  private readonly signal: AbortSignal;
  private readonly run: lifecycle.RunRef;
  /** What the start statement read for this run: student, guardians, staff names, READY evidence, base IEP. */
  private readonly context: RunContext;
  /** The student's own once the run has checked it exists; until then masks contact details and ids only. */
  private privacy = new Pseudonymizer();

  constructor(deps: GenerationDeps, generation: Generation, context: RunContext, signal: AbortSignal) {
    this.deps = deps;
    this.latest = generation;
    this.context = context;
    this.signal = signal;
    this.run = lifecycle.runOf(generation);
    this.deltas = createDeltaPublisher(deps.pool, { schoolId: generation.school_id, generationId: generation.id }, deps.deltaIntervalMs,
      (text) => this.privacy.restoreJsonText(text));
    this.deltas.release(generation.last_seq);
  }

  async execute(): Promise<Generation> {
    const generation = this.latest;
    const { student, guardians } = this.studentOf();
    this.privacy = new Pseudonymizer({
      student: { firstName: student.first_name, lastName: student.last_name, dateOfBirth: student.date_of_birth },
      guardians, staffNames: this.context.staff_names,
    });
    const period = periodOfRow(generation);
    const requirements = sectionRequirements(student.date_of_birth, period);
    const sections = this.sectionsToDraft(requirements);
    const baseContent = this.baseContent();
    const template = this.template();

    const chunks = await this.retrieve(student, sections, generation.kind === "SECTION" ? [] : template.extraItems);

    await this.step("drafting", DRAFT_PROGRESS.start, `Drafting with ${this.deps.gemini.config.model} from ${chunks.length} evidence excerpts`);
    const { schema, jsonSchema } = draftSchemas(generation.kind === "SECTION" ? sections[0]! : undefined, requirements, template);
    const unmasked = buildIepPrompt({
      student: { firstName: student.first_name, grade: student.grade, dateOfBirth: student.date_of_birth,
        disabilityCategories: student.disability_categories, primaryLanguage: student.primary_language },
      period,
      requirements,
      chunks,
      instructions: generation.instructions,
      template,
      ...(generation.kind === "SECTION" ? { onlySection: sections[0]!, existingContent: baseContent } : {}),
    });
    const systemInstruction = this.privacy.mask(unmasked.systemInstruction);
    const prompt = this.privacy.mask(unmasked.prompt);
    const rules: DraftRules = {
      schema, kind: generation.kind, sections, base: baseContent, requirements, period, allowedChunkIds: new Set(chunks.map((c) => c.id)),
    };
    const draft = await this.draft(systemInstruction, prompt, jsonSchema);

    const content = await this.validateOrRepair(draft, rules, { systemInstruction, prompt, jsonSchema });
    this.latest = await saveDraft(this.deps, this.run, this.latest, content, draft.model);
    return this.latest;
  }

  /** Drops streamed text not yet sent (the run failed). */
  discardText(): void {
    this.deltas.discard();
  }

  /**
   * Validates the draft; if it is rejected, asks the model once to repair it with the validation
   * errors (stage `repairing`) and validates the answer. A draft still invalid fails the attempt;
   * nothing invalid is ever stored. The draft is validated as the model wrote it (with
   * placeholders); the content returned has every placeholder replaced by its real value.
   * Validation takes no I/O, so its `validating` step is stored after it, with the step that
   * follows (`saving`, or `repairing`), in one statement.
   */
  private async validateOrRepair(
    draft: { text: string },
    rules: DraftRules,
    request: { systemInstruction: string; prompt: string; jsonSchema: object },
  ): Promise<IepContent> {
    const validating = { stage: "validating", progress: 0.85, message: "Checking the draft against IDEA §300.320 and its citations" } as const;
    try {
      const content = this.privacy.restoreDeep(validateDraft(draft.text, rules));
      await this.step("saving", 0.95, "Saving the IEP draft", [validating]);
      return content;
    } catch (error) {
      if (!(error instanceof DraftRejectedError)) throw error;
      this.deps.logger.warn({ err: error.message }, "draft rejected; asking the model to repair it once");
      await this.step("repairing", 0.82, `The draft was rejected (${this.privacy.restore(error.message).slice(0, 300)}); asking the model to repair it`, [validating]);
      const repair = repairPrompt(request.prompt, draft.text, error.message, this.privacy);
      const repaired = await this.draft(request.systemInstruction, repair, request.jsonSchema);
      const revalidating = { stage: "validating", progress: 0.9, message: "Checking the repaired draft" } as const;
      let content: IepContent;
      try {
        content = this.privacy.restoreDeep(validateDraft(repaired.text, rules));
      } catch (rejected) {
        await this.step(revalidating.stage, revalidating.progress, revalidating.message);
        throw rejected;
      }
      await this.step("saving", 0.95, "Saving the IEP draft", [revalidating]);
      return content;
    }
  }

  private sectionsToDraft(requirements: SectionRequirements): IepSectionKind[] {
    if (this.latest.kind === "SECTION") return [this.latest.section_kind as IepSectionKind];
    return IEP_SECTION_KINDS.filter(
      (kind) => (kind !== "TRANSITION" || requirements.transition) && (kind !== "TRANSFER_OF_RIGHTS" || requirements.transferOfRights),
    );
  }

  private studentOf(): { student: Student; guardians: Guardian[] } {
    const loaded = this.context.student;
    if (!loaded) throw new PermanentGenerationError("The student no longer exists");
    const { guardians, ...student } = loaded;
    return { student, guardians };
  }

  private baseContent(): IepContent | undefined {
    if (!this.latest.base_iep_id) return undefined;
    if (!this.context.base_content) throw new PermanentGenerationError("The IEP whose section is being redrafted no longer exists");
    return this.context.base_content as IepContent;
  }

  /** The template version the generation records (the built-in one for generations from before templates). */
  private template(): TemplateVersion {
    return this.context.template ? parseTemplateVersion(this.context.template) : DEFAULT_TEMPLATE;
  }

  /**
   * Chunks for each section (and each extra item of the template), from the generation's evidence
   * kinds only (all kinds when it names none).
   */
  private async retrieve(student: Student, sections: IepSectionKind[], extraItems: TemplateVersion["extraItems"]): Promise<PromptChunk[]> {
    const ready = new Map(this.context.evidence.map(({ id, ...source }) => [id, source]));
    if (ready.size === 0) {
      throw new PermanentGenerationError(this.latest.evidence_kinds
        ? `The student has no READY evidence of the kinds asked for (${this.latest.evidence_kinds.join(", ")})`
        : "The student has no READY evidence yet: add evidence and wait for it to be ingested");
    }
    const chunks = new Map<string, PromptChunk>();
    const queries = [
      ...sections.map((section) => SECTION_RETRIEVAL_QUERIES[section]),
      ...extraItems.map((item) => `${item.label} ${item.description}`),
    ].map((query) => [query, this.latest.instructions].filter(Boolean).join(" "));
    const perSection = await searchStudentEvidenceMany(this.deps, {
      schoolId: student.school_id, studentId: student.id, queries, limit: CHUNKS_PER_SECTION, signal: this.signal, privacy: this.privacy,
      evidenceKinds: this.latest.evidence_kinds,
    });
    for (const matches of perSection) {
      for (const { chunk } of matches) {
        const source = ready.get(chunk.evidence_id);
        if (source && !chunks.has(chunk.id)) {
          chunks.set(chunk.id, { id: chunk.id, evidenceTitle: source.title, evidenceKind: source.kind, page: chunk.page, text: chunk.text });
        }
      }
    }
    return [...chunks.values()];
  }

  private async draft(systemInstruction: string, prompt: string, schema: object) {
    let received = 0;
    let checkpoint = 0;
    let pendingCheckpoint: Promise<void> = Promise.resolve();
    let waiting: { store: () => Promise<void> } | undefined;
    // Checkpoint events are stored in the background while the stream goes on. If the stream fails
    // (cancelled, transient error), a queued checkpoint rejects too (the run no longer owns the
    // generation) and nothing awaits it: mark each as handled at once, so it cannot become an
    // unhandled rejection, and let it settle before rethrowing. A progress checkpoint still waiting
    // for the one before it is replaced by a newer one (a fast stream passes several at once); a
    // restart is never replaced.
    const queueCheckpoint = (store: () => Promise<void>, replaceable = false) => {
      if (replaceable && waiting) {
        waiting.store = store;
        return;
      }
      const item = { store };
      waiting = replaceable ? item : undefined;
      pendingCheckpoint = pendingCheckpoint.then(() => {
        if (waiting === item) waiting = undefined;
        return item.store();
      });
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
          queueCheckpoint(() => this.step("drafting", next, `Drafting… about ${received} characters so far`), true);
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

  /** Stores a stage event (after `before`, in one statement) while this run still owns the generation; throws if it does not. */
  private async step(stage: lifecycle.RunStage, progress: number, message: string, before: lifecycle.StepEvent[] = []): Promise<void> {
    this.signal.throwIfAborted();
    await this.deltas.holdForStoredEvent();
    try {
      const updated = await lifecycle.step({ db: this.deps.pool, log: this.deps.logger }, this.run, stage, progress, message, before);
      if (!updated) throw new RunSupersededError(this.latest.id);
      this.latest = updated;
    } finally {
      this.deltas.release(this.latest.last_seq);
    }
  }
}

function progressFor(receivedChars: number): number {
  const fraction = Math.min(1, receivedChars / EXPECTED_DRAFT_CHARS);
  return DRAFT_PROGRESS.start + fraction * (DRAFT_PROGRESS.end - DRAFT_PROGRESS.start);
}
