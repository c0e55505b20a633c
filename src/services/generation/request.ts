import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../../auth.ts";
import {
  findGenerationByIdempotencyKey,
  findGenerationForUpdate,
  jobPriority,
  TERMINAL_STATUSES,
  type Generation,
  type NewGeneration,
} from "../../db/generations.ts";
import { EvidenceKind } from "../../db/evidence.ts";
import { findIep, type IepRecord } from "../../db/ieps.ts";
import { withTransaction, type Queryable } from "../../db/pool.ts";
import { mapDatabaseError } from "../../db/errors.ts";
import { findStudentsByIds } from "../../db/students.ts";
import { InvalidStateError, MAX_ID_LENGTH, NotFoundError, parseInput, ValidationError } from "../../errors.ts";
import { isUuid } from "../../ids.ts";
import { publishEvent } from "../../events/bus.ts";
import { IEP_SECTION_KINDS } from "../../iep/content.ts";
import { defaultAcademicYear, iepDateProblems, iepPeriod, resolveIepDates } from "../../iep/rules.ts";
import * as lifecycle from "../../lifecycle/generation.ts";
import { audit, requestIdOf } from "../audit.ts";
import type { Logger } from "../../logger.ts";
import { DEFAULT_SECURITY } from "../../security.ts";
import { checkCost, rateLimitedFromDatabase, takeGenerationQuota, type RateLimits } from "../rate-limit.ts";
import { generateIep } from "../../../tasks/generate_iep.ts";
import { usableTemplate } from "../templates.ts";

const academicYear = z
  .string()
  .trim()
  .refine((value) => {
    try {
      iepPeriod(value);
      return true;
    } catch {
      return false;
    }
  }, "must look like 2026-2027 (two consecutive years)");
const instructions = z.string().trim().max(2000, "must be at most 2000 characters").nullish();
const priority = z.number().int().min(-100, "must be between -100 and 100").max(100, "must be between -100 and 100").nullish();

const localDate = z.iso.date("must be a date like 2026-09-01").refine((date) => date >= "1990-01-01" && date <= "2200-12-31", "is out of range");

/** The IEP a FULL_IEP request drafts: template (default: built-in), dates (default: derived) and evidence kinds (default: all). */
const IepOptions = {
  templateId: z.string().max(MAX_ID_LENGTH, "is too long to be an id").nullish(),
  meetingDate: localDate.nullish(),
  effectiveDate: localDate.nullish(),
  annualReviewDate: localDate.nullish(),
  evidenceKinds: z.array(EvidenceKind).min(1, "must name at least one evidence kind (leave it out for every kind)").nullish()
    .transform((kinds) => (kinds ? [...new Set(kinds)] : null)),
};

/** What generateIep accepts. Priority follows graphile-worker: smaller numbers run first (default 0). */
export const GenerateIepInput = z.object({
  studentId: z.uuid("must be a student id"),
  academicYear: academicYear.nullish(),
  instructions,
  idempotencyKey: z.string().trim().min(1).max(200, "must be at most 200 characters").nullish(),
  priority,
  ...IepOptions,
});

export const RegenerateIepSectionInput = z.object({
  iepId: z.uuid("must be an IEP id"),
  section: z.enum(IEP_SECTION_KINDS),
  instructions,
  idempotencyKey: GenerateIepInput.shape.idempotencyKey,
  priority,
});

export const GenerateIepsInput = z.object({
  studentIds: z.array(z.uuid("must be student ids")).min(1, "must name at least one student").max(200, "at most 200 students at once")
    .refine((ids) => new Set(ids).size === ids.length, "must not repeat a student"),
  academicYear: academicYear.nullish(),
  instructions,
  priority,
  ...IepOptions,
});

const GenerationIdInput = z.object({ id: z.string().max(MAX_ID_LENGTH, "is too long to be an id") });

/**
 * `enqueue`: add the job in the same transaction (async), or leave it to the caller to run inline.
 * `rateLimits`: the caller's budgets, `ctx.deps.security.rateLimits` (default: DEFAULT_SECURITY's).
 */
export interface RequestOptions {
  enqueue: boolean;
  log: Logger;
  rateLimits?: RateLimits;
}

/** A created (or, for a repeated idempotency key, the existing) generation. */
export interface RequestedGeneration {
  generation: Generation;
  created: boolean;
}

/**
 * Creates a QUEUED FULL_IEP generation in one statement (lifecycle `queue`). With `enqueue`, its
 * graphile-worker job is added by the same statement (both exist or neither); without, the caller
 * runs it inline. The same idempotency key from the same user returns the existing generation
 * instead. Counts against the rate limits (a replayed idempotency key does not); refused →
 * RateLimitedError, and nothing is written. The generation records its template version, IEP
 * dates and evidence kinds (iepSettings): bad dates are a ValidationError, a template the school
 * may not use a NotFoundError, and neither writes anything.
 */
export async function requestIepGeneration(pool: pg.Pool, viewer: Viewer, input: unknown, options: RequestOptions): Promise<RequestedGeneration> {
  const valid = parseInput(GenerateIepInput, input);
  return admitOne(pool, viewer, options, {
    studentId: valid.studentId, kind: "FULL_IEP", sectionKind: null, baseIepId: null,
    ...iepSettings(valid, new Date()),
    instructions: valid.instructions ?? null, idempotencyKey: valid.idempotencyKey ?? null, priority: valid.priority ?? 0,
    message: options.enqueue ? "Queued" : "Starting now (synchronous)",
  });
}

type IepSettings = Pick<NewGeneration, "academicYear" | "templateId" | "templateVersionId" | "meetingDate" | "effectiveDate" | "annualReviewDate" | "evidenceKinds">;

/**
 * A FULL_IEP request's academic year (given, else the one its effective or meeting date, or today,
 * falls in), its IEP dates (missing ones derived: resolveIepDates), template and evidence kinds.
 * Dates that break the rules (iepDateProblems) and a template id that cannot be one are refused here.
 */
export function iepSettings(
  valid: { academicYear?: string | null } & { [K in keyof typeof IepOptions]?: z.infer<(typeof IepOptions)[K]> },
  now: Date,
): IepSettings {
  const today = now.toISOString().slice(0, 10);
  const dated = valid.effectiveDate ?? valid.meetingDate;
  const year = valid.academicYear ?? defaultAcademicYear(dated ? new Date(`${dated}T00:00:00Z`) : now);
  const dates = resolveIepDates({
    meetingDate: valid.meetingDate ?? undefined, effectiveDate: valid.effectiveDate ?? undefined, annualReviewDate: valid.annualReviewDate ?? undefined,
  }, year, today);
  const problems = iepDateProblems(dates, valid.academicYear ?? undefined);
  if (problems.length > 0) throw ValidationError.fromFieldErrors(problems.map((p) => ({ path: [p.field], message: p.message })));
  if (valid.templateId && !isUuid(valid.templateId)) throw new NotFoundError("IepTemplate", valid.templateId);
  return { academicYear: year, ...dates, templateId: valid.templateId ?? null, templateVersionId: null, evidenceKinds: valid.evidenceKinds ?? null };
}

/** A redraft keeps its IEP's template version, dates and (all) evidence kinds. */
function keptSettings(iep: IepRecord): IepSettings {
  return {
    academicYear: iep.academic_year, templateId: null, templateVersionId: iep.template_version_id,
    meetingDate: iep.meeting_date, effectiveDate: iep.effective_date, annualReviewDate: iep.annual_review_date, evidenceKinds: null,
  };
}

/** Why a refused request wrote nothing: the template (when one was asked for and the school may not use it), else a student. */
async function refusal(pool: pg.Pool, viewer: Viewer, templateId: string | null, studentIds: readonly string[]): Promise<NotFoundError> {
  if (templateId && !(await usableTemplate(pool, viewer.schoolId, templateId))) return new NotFoundError("IepTemplate", templateId);
  const found = new Set((await findStudentsByIds(pool, viewer.schoolId, studentIds)).map((s) => s.id));
  return new NotFoundError("Student", studentIds.find((id) => !found.has(id)) ?? studentIds[0]!);
}

/** Creates a SECTION generation that redrafts one section of an existing IEP into a new version. */
export async function requestSectionGeneration(pool: pg.Pool, viewer: Viewer, input: unknown, options: RequestOptions): Promise<RequestedGeneration> {
  const valid = parseInput(RegenerateIepSectionInput, input);
  const iep = await findIep(pool, viewer.schoolId, valid.iepId);
  if (!iep) throw new NotFoundError("Iep", valid.iepId);
  const ageDependent = valid.section === "TRANSITION" || valid.section === "TRANSFER_OF_RIGHTS";
  const field = valid.section === "TRANSITION" ? "transition" : "transferOfRights";
  if (ageDependent && iep.content[field] == null) {
    throw new InvalidStateError(`This IEP has no ${valid.section} section: it does not apply to this student's age`, valid.section);
  }
  return admitOne(pool, viewer, options, {
    studentId: iep.student_id, kind: "SECTION", sectionKind: valid.section, baseIepId: iep.id, ...keptSettings(iep),
    instructions: valid.instructions ?? null, idempotencyKey: valid.idempotencyKey ?? null, priority: valid.priority ?? 0,
    message: options.enqueue ? `Queued: redraft ${valid.section}` : `Redrafting ${valid.section} now (synchronous)`,
  });
}

type GenerationRequest = Omit<NewGeneration, "schoolId" | "requestedBy" | "batchId" | "maxAttempts">;

async function admitOne(pool: pg.Pool, viewer: Viewer, options: RequestOptions, request: GenerationRequest): Promise<RequestedGeneration> {
  const { studentId, ...settings } = request;
  const admission = await admit(pool, viewer, options.log, options.rateLimits, {
    ...settings, studentIds: [studentId], batch: false, job: options.enqueue ? generateIep : null,
  });
  if (admission.kind === "queued") return { generation: admission.generations[0]!, created: true };
  if (admission.kind === "replayed") return { generation: admission.generation, created: false };
  // Nothing written: another request with the same key won the race, or the student is not the school's.
  const existing = request.idempotencyKey ? await findGenerationByIdempotencyKey(pool, viewer.userId, request.idempotencyKey) : undefined;
  if (existing) return { generation: existing, created: false };
  throw await refusal(pool, viewer, request.templateId, [studentId]);
}

/** Runs lifecycle `queue` for the viewer, counting the request's size against the rate limits. */
async function admit(
  pool: pg.Pool, viewer: Viewer, log: Logger, rateLimits: RateLimits = DEFAULT_SECURITY.rateLimits,
  request: Omit<lifecycle.QueueRequest, "schoolId" | "requestedBy" | "maxAttempts" | "rateLimits" | "requestId">,
  costPath: string[] = [],
): Promise<lifecycle.Admission> {
  checkCost(rateLimits, request.studentIds.length, costPath);
  try {
    return await lifecycle.queue({ db: pool, log }, {
      ...request, schoolId: viewer.schoolId, requestedBy: viewer.userId, maxAttempts: generateIep.maxAttempts,
      rateLimits, requestId: requestIdOf(log),
    });
  } catch (error) {
    throw mapDatabaseError(rateLimitedFromDatabase(error, rateLimits, request.studentIds.length));
  }
}

/** Queues a FULL_IEP generation per student, as one batch, in one statement; counts as its size against the rate limits. */
export async function requestBatchGeneration(pool: pg.Pool, viewer: Viewer, input: unknown, log: Logger, rateLimits = DEFAULT_SECURITY.rateLimits): Promise<{ batchId: string; generations: Generation[] }> {
  const valid = parseInput(GenerateIepsInput, input);
  const admission = await admit(pool, viewer, log, rateLimits, {
    studentIds: valid.studentIds, batch: true, job: generateIep, kind: "FULL_IEP", priority: valid.priority ?? 0,
    idempotencyKey: null, ...iepSettings(valid, new Date()), instructions: valid.instructions ?? null,
    sectionKind: null, baseIepId: null, message: "Queued (batch)",
  }, ["studentIds"]);
  if (admission.kind !== "queued") throw await refusal(pool, viewer, valid.templateId ?? null, valid.studentIds);
  return { batchId: admission.batchId!, generations: admission.generations };
}

/**
 * Cancels a QUEUED generation (its job is removed) or a RUNNING one (marked CANCELLED at once; the
 * process running it is told over NOTIFY and aborts its Gemini call). A finished one is an
 * InvalidStateError.
 */
export async function cancelGeneration(pool: pg.Pool, viewer: Viewer, id: string, log: Logger): Promise<Generation> {
  return withTransaction(pool, async (client) => {
    const generation = await lockGeneration(client, viewer, id);
    if (TERMINAL_STATUSES.includes(generation.status)) {
      throw new InvalidStateError(`Generation is already ${generation.status} and cannot be cancelled`, generation.status);
    }
    await generateIep.dequeue(client, { generationId: generation.id });
    const cancelled = await lifecycle.cancel({ db: client, log }, generation.id);
    await publishEvent(client, { type: "generation.cancel", generationId: generation.id });
    await audit(client, viewer, log, "CANCELLED", "GENERATION", [{ id: generation.id, studentId: generation.student_id }]);
    return cancelled!;
  });
}

/**
 * Re-queues a FAILED or CANCELLED generation (attempts start again); other states are an
 * InvalidStateError. Counts against the rate limits like a new request.
 */
export async function retryGeneration(pool: pg.Pool, viewer: Viewer, id: string, log: Logger, rateLimits = DEFAULT_SECURITY.rateLimits): Promise<Generation> {
  const valid = parseInput(GenerationIdInput, { id });
  return withTransaction(pool, async (client) => {
    await takeGenerationQuota(client, viewer, rateLimits, 1);
    const generation = await lockGeneration(client, viewer, valid.id);
    if (generation.status !== "FAILED" && generation.status !== "CANCELLED") {
      throw new InvalidStateError(`Only FAILED or CANCELLED generations can be retried; this one is ${generation.status}`, generation.status);
    }
    const requeued = await lifecycle.retry({ db: client, log }, generation.id);
    await generateIep.enqueue(client, { generationId: generation.id }, { priority: jobPriority(generation) });
    await audit(client, viewer, log, "RETRIED", "GENERATION", [{ id: generation.id, studentId: generation.student_id }]);
    return requeued!;
  });
}

async function lockGeneration(client: Queryable, viewer: Viewer, id: string): Promise<Generation> {
  const generation = isUuid(id) ? await findGenerationForUpdate(client, viewer.schoolId, id) : undefined;
  if (!generation) throw new NotFoundError("Generation", id);
  return generation;
}
