/**
 * The review workflow: edit a section (validated like a draft), submit a DRAFT for review, approve
 * it, compare versions. State changes go through src/lifecycle/iep.ts; this module decides what
 * is allowed and validates.
 */
import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../auth.ts";
import { findIep, findIepBasedOn, IEP_VERSION_CONSTRAINT, type IepRecord } from "../db/ieps.ts";
import { findEditContext } from "../db/reviews.ts";
import { InvalidStateError, MAX_ID_LENGTH, NotFoundError, parseInput, ValidationError, type FieldError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { citedChunkIds, IEP_SECTION_KINDS, SECTION_FIELD, SECTION_SCHEMAS, type IepSectionKind } from "../iep/content.ts";
import { checkSectionContent, isRecord, periodOfRow, sectionRequirements, type RuleViolation } from "../iep/rules.ts";
import * as lifecycle from "../lifecycle/iep.ts";
import type { Logger } from "../logger.ts";
import { requestIdOf } from "./audit.ts";

/** The print view of an IEP (src/http/print.ts). */
export const printPath = (iepId: string): string => `/ieps/${iepId}/print`;
/** How long `Iep.printUrl` stays valid. */
export const PRINT_URL_TTL_MS = 5 * 60 * 1000;

/** How often an edit is validated and tried again when someone changed the IEP in between. */
const EDIT_ATTEMPTS = 5;
const BASED_ON_CONSTRAINT = "ieps_based_on_idx";

export const EditIepSectionInput = z.object({
  iepId: z.string().max(MAX_ID_LENGTH, "is too long to be an id"),
  section: z.enum(IEP_SECTION_KINDS),
  content: z.unknown(),
  expectedRevision: z.number().int().nullish(),
});

/** An edited IEP (the same version, or the new DRAFT version an edit of a FINAL one started) and the section. */
export interface EditedSection {
  iep: IepRecord;
  kind: IepSectionKind;
}

/**
 * Replaces one section's content. DRAFT and IN_REVIEW IEPs are edited in place (the status
 * stays); a FINAL one is immutable: the edit goes to the DRAFT version that continues it, started
 * now if there is none. The content must pass the section's zod schema and the IEP rules the
 * drafter checks, and cite only the student's own evidence chunks; otherwise ValidationError and
 * nothing is written. An edit that changes nothing writes nothing. Concurrent edits never lose one:
 * each applies at the revision it was validated at, or is validated again on the newer content.
 * With `expectedRevision` (the revision the editor read), an IEP changed since (or a FINAL one
 * already continued by a draft) refuses the edit instead: InvalidStateError `STALE`.
 */
export async function editIepSection(pool: pg.Pool, viewer: Viewer, log: Logger, input: unknown): Promise<EditedSection> {
  const { iepId, section: kind, content, expectedRevision } = parseInput(EditIepSectionInput, input);
  const ctx = { db: pool, log };
  const actor = { userId: viewer.userId, requestId: requestIdOf(log) };
  for (let attempt = 1; attempt <= EDIT_ATTEMPTS; attempt += 1) {
    const { named, target } = await editTarget(pool, viewer.schoolId, iepId);
    if (expectedRevision != null && (named.revision !== expectedRevision || named !== target)) {
      throw new InvalidStateError(`The IEP changed since revision ${expectedRevision}: read it again and redo the edit`, "STALE");
    }
    const change = await validatedChange(pool, viewer.schoolId, target, kind, content);
    if (change.changedPaths.length === 0) return { iep: target, kind };
    try {
      const edited = target.status === "FINAL"
        ? await lifecycle.branch(ctx, target, change, actor)
        : await lifecycle.edit(ctx, target.id, target.revision, change, actor);
      if (edited) return { iep: edited, kind };
    } catch (error) {
      const constraint = (error as { constraint?: string }).constraint;
      if (constraint !== IEP_VERSION_CONSTRAINT && constraint !== BASED_ON_CONSTRAINT) throw error;
    }
    log.debug({ iepId, attempt }, "IEP changed while an edit was validated; validating again");
  }
  throw new InvalidStateError("The IEP keeps changing under this edit; try again", "CONFLICT");
}

/** The IEP named, and the one an edit of it applies to: itself, or for a FINAL one the newest version continuing it. */
async function editTarget(pool: pg.Pool, schoolId: string, id: string): Promise<{ named: IepRecord; target: IepRecord }> {
  const named = isUuid(id) ? await findIep(pool, schoolId, id) : undefined;
  if (!named) throw new NotFoundError("Iep", id);
  let target = named;
  for (let next; target.status === "FINAL" && (next = await findIepBasedOn(pool, schoolId, target.id)); ) target = next;
  return { named, target };
}

/** The section change after validation (schema, IEP rules, the student's own citations): ValidationError otherwise. */
async function validatedChange(pool: pg.Pool, schoolId: string, iep: IepRecord, kind: IepSectionKind, content: unknown): Promise<lifecycle.SectionChange> {
  const field = SECTION_FIELD[kind];
  const cited = citedChunkIds(content).filter(isUuid);
  const student = await findEditContext(pool, schoolId, iep.student_id, cited);
  if (!student) throw new NotFoundError("Student", iep.student_id);
  const period = periodOfRow(iep);
  const violations = checkSectionContent(kind, content, {
    requirements: sectionRequirements(student.dateOfBirth, period),
    allowedChunkIds: new Set(student.ownChunkIds),
    period,
    existingContent: iep.content,
  });
  if (violations.length > 0) throw ValidationError.fromFieldErrors(violations.map((v) => fieldError(field, v)));
  const parsed = content === null ? null : SECTION_SCHEMAS[kind].parse(content);
  const before = iep.content[field] ?? null;
  return { field, kind, content: parsed, before, changedPaths: changedPaths(before, parsed, field) };
}

/** "annualGoals.goals[0].citations[1]" → ["content", "goals", "0", "citations", "1"] (the input's path). */
function fieldError(field: string, violation: RuleViolation): FieldError {
  const rest = violation.path.startsWith(field) ? violation.path.slice(field.length) : `.${violation.path}`;
  const segments = rest.split(/[.[\]]+/).filter(Boolean);
  return { path: ["content", ...segments], message: violation.message };
}

/** DRAFT → IN_REVIEW. NotFoundError outside the school; InvalidStateError from any other status. */
export async function submitIepForReview(pool: pg.Pool, viewer: Viewer, log: Logger, id: string): Promise<IepRecord> {
  const done = isUuid(id) ? await lifecycle.submit({ db: pool, log }, id, { userId: viewer.userId, requestId: requestIdOf(log) }) : undefined;
  return done ?? refusal(pool, viewer, id, "submitted for review", "DRAFT");
}

/** IN_REVIEW → FINAL, recording the approver and the time. NotFoundError / InvalidStateError as for submit. */
export async function approveIep(pool: pg.Pool, viewer: Viewer, log: Logger, id: string): Promise<IepRecord> {
  const done = isUuid(id) ? await lifecycle.approve({ db: pool, log }, id, { userId: viewer.userId, requestId: requestIdOf(log) }) : undefined;
  return done ?? refusal(pool, viewer, id, "approved", "IN_REVIEW");
}

async function refusal(pool: pg.Pool, viewer: Viewer, id: string, what: string, from: string): Promise<never> {
  const iep = isUuid(id) ? await findIep(pool, viewer.schoolId, id) : undefined;
  if (!iep) throw new NotFoundError("Iep", id);
  throw new InvalidStateError(`This IEP is ${iep.status}: only an IEP in ${from} can be ${what}`, iep.status);
}

/**
 * The JSON paths at which `before` and `after` differ, in the IEP rules' notation
 * ("annualGoals.goals[0].criterion"); a subtree added or removed is one path.
 */
export function changedPaths(before: unknown, after: unknown, path: string): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) => changedPaths(before[i], after[i], `${path}[${i}]`)).flat();
  }
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => changedPaths(before[key], after[key], `${path}.${key}`));
  }
  return [path];
}

export type SectionChangeKind = "ADDED" | "REMOVED" | "CHANGED" | "UNCHANGED";

/** One section compared between two versions. */
export interface SectionDiff {
  kind: IepSectionKind;
  change: SectionChangeKind;
  changedPaths: string[];
  before: unknown;
  after: unknown;
}

/** Every section of `after` compared with `before` (null: nothing to compare with, all sections present are ADDED). */
export function diffIeps(after: IepRecord, before: IepRecord | null): SectionDiff[] {
  return IEP_SECTION_KINDS.map((kind) => {
    const field = SECTION_FIELD[kind];
    const [a, b] = [after.content[field] ?? null, before?.content[field] ?? null];
    const paths = changedPaths(b, a, field);
    const change: SectionChangeKind = b === null && a !== null ? "ADDED" : a === null && b !== null ? "REMOVED" : paths.length > 0 ? "CHANGED" : "UNCHANGED";
    return { kind, change, changedPaths: paths, before: b, after: a };
  });
}
