import { z } from "zod";
import type { Queryable } from "./pool.ts";

export const AUDIT_ACTIONS = ["REQUESTED", "VIEWED", "EDITED", "SUBMITTED", "APPROVED", "CANCELLED", "RETRIED", "EXPORTED"] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
/** What an audit entry is about; EVIDENCE: an evidence file (its download). */
export const AUDIT_RESOURCES = ["GENERATION", "IEP", "EVIDENCE"] as const;
export type AuditResource = (typeof AUDIT_RESOURCES)[number];

/** One thing done to a student's record: who, what, which record, from which request. */
export interface AuditEntry {
  schoolId: string;
  userId: string | null;
  action: AuditAction;
  resourceType: AuditResource;
  resourceId: string;
  studentId: string | null;
  requestId: string | null;
}

const AuditRow = z.object({
  id: z.coerce.string(),
  school_id: z.string(),
  user_id: z.string().nullable(),
  action: z.enum(AUDIT_ACTIONS),
  resource_type: z.enum(AUDIT_RESOURCES),
  resource_id: z.string(),
  student_id: z.string().nullable(),
  request_id: z.string().nullable(),
  at: z.date(),
});
export type AuditRecord = z.infer<typeof AuditRow>;

/** Appends entries in one statement (call inside the transaction that did the thing, when there is one). */
export async function appendAudit(db: Queryable, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `insert into audit_log (school_id, user_id, action, resource_type, resource_id, student_id, request_id)
     select * from unnest($1::uuid[], $2::uuid[], $3::audit_action[], $4::audit_resource[], $5::uuid[], $6::uuid[], $7::text[])`,
    [entries.map((e) => e.schoolId), entries.map((e) => e.userId), entries.map((e) => e.action), entries.map((e) => e.resourceType),
      entries.map((e) => e.resourceId), entries.map((e) => e.studentId), entries.map((e) => e.requestId)],
  );
}

export interface AuditFilter {
  studentId?: string | null;
  userId?: string | null;
  actions?: readonly AuditAction[] | null;
}

/** A school's audit entries, newest first, before the entry `beforeId` (keyset). */
export async function listAudit(db: Queryable, schoolId: string, filter: AuditFilter, limit: number, beforeId: string | null): Promise<AuditRecord[]> {
  const { rows } = await db.query(
    `select * from audit_log
     where school_id = $1
       and ($2::uuid is null or student_id = $2)
       and ($3::uuid is null or user_id = $3)
       and ($4::audit_action[] is null or action = any($4))
       and ($5::bigint is null or id < $5)
     order by id desc limit $6`,
    [schoolId, filter.studentId ?? null, filter.userId ?? null, filter.actions ?? null, beforeId, limit],
  );
  return rows.map((row) => AuditRow.parse(row));
}
