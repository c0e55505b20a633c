import type pg from "pg";
import { z } from "zod";
import type { Viewer } from "../auth.ts";
import { EvidenceKind, type Evidence } from "../db/evidence.ts";
import { withTransaction } from "../db/pool.ts";
import { findStudent } from "../db/students.ts";
import { NotFoundError, parseInput } from "../errors.ts";
import * as lifecycle from "../lifecycle/evidence.ts";
import type { Logger } from "../logger.ts";
import { ingestEvidenceTask } from "../../tasks/ingest_evidence.ts";

/** What addEvidence accepts; `maxChars` is EVIDENCE_MAX_CHARS (default 200,000 characters). */
export function addEvidenceInputSchema(maxChars: number) {
  return z.object({
    studentId: z.uuid("must be a student id"),
    kind: EvidenceKind,
    title: z.string().trim().min(1, "must not be empty").max(300, "must be at most 300 characters"),
    body: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(maxChars, `must be at most ${maxChars} characters (EVIDENCE_MAX_CHARS); split longer documents`),
  });
}
export type AddEvidenceInput = z.input<ReturnType<typeof addEvidenceInputSchema>>;

/**
 * Stores an evidence document as PENDING and enqueues its ingestion job on the same client in the
 * same transaction: both exist, or (on any error) neither.
 */
export async function addEvidence(
  pool: pg.Pool,
  viewer: Viewer,
  input: unknown,
  options: { maxChars: number; log: Logger },
): Promise<Evidence> {
  const valid = parseInput(addEvidenceInputSchema(options.maxChars), input);
  return withTransaction(pool, async (client) => {
    const student = await findStudent(client, viewer.schoolId, valid.studentId);
    if (!student) throw new NotFoundError("Student", valid.studentId);
    const evidence = await lifecycle.queue({ db: client, log: options.log }, { ...valid, schoolId: viewer.schoolId, createdBy: viewer.userId });
    await ingestEvidenceTask.enqueue(client, { evidenceId: evidence.id });
    return evidence;
  });
}
