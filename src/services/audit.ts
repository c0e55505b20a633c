import type { Viewer } from "../auth.ts";
import { appendAudit, type AuditAction, type AuditResource } from "../db/audit.ts";
import type { Queryable } from "../db/pool.ts";
import type { Logger } from "../logger.ts";

/** A record something was done to: a generation or an IEP, and the student it belongs to. */
export interface AuditedRecord {
  id: string;
  studentId: string | null;
}

/**
 * The request id of a request-scoped logger (src/yoga.ts gives every request a child logger with
 * `requestId`, echoed to the client), or null outside a request (CLIs, tasks).
 */
export function requestIdOf(log: Logger): string | null {
  const requestId = log.bindings().requestId;
  return typeof requestId === "string" ? requestId.slice(0, 200) : null;
}

/**
 * Appends to the audit log that `viewer` did `action` to `records`, in the caller's transaction
 * when `db` is one (so the entry exists iff the action committed).
 */
export async function audit(db: Queryable, viewer: Viewer, log: Logger, action: AuditAction, resourceType: AuditResource, records: readonly AuditedRecord[]): Promise<void> {
  const requestId = requestIdOf(log);
  await appendAudit(db, records.map((record) => ({
    schoolId: viewer.schoolId, userId: viewer.userId, action, resourceType, resourceId: record.id, studentId: record.studentId, requestId,
  })));
}
