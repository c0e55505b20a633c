import { builder } from "../builder.ts";
import { AUDIT_ACTIONS, AUDIT_RESOURCES, listAudit, type AuditRecord } from "../db/audit.ts";
import { badUserInput } from "../errors.ts";
import { isUuid } from "../ids.ts";

const AuditActionEnum = builder.enumType("AuditAction", { values: AUDIT_ACTIONS });
const AuditResourceEnum = builder.enumType("AuditResource", { values: AUDIT_RESOURCES });

const AuditEntryRef = builder.objectRef<AuditRecord>("AuditEntry").implement({
  description: "One thing a user did to a student's IEP or generation (append-only).",
  fields: (t) => ({
    id: t.exposeID("id"),
    action: t.field({ type: AuditActionEnum, resolve: (entry) => entry.action }),
    resourceType: t.field({ type: AuditResourceEnum, resolve: (entry) => entry.resource_type }),
    resourceId: t.exposeID("resource_id"),
    studentId: t.exposeID("student_id", { nullable: true }),
    userId: t.exposeID("user_id", { nullable: true, description: "Who did it (kept after the user is removed)." }),
    requestId: t.exposeString("request_id", { nullable: true, description: "The request it came from (the X-Request-Id the client sent, or one iepgen made)." }),
    at: t.field({ type: "DateTime", resolve: (entry) => entry.at }),
  }),
});

const AuditFilterRef = builder.inputType("AuditFilter", {
  fields: (t) => ({
    studentId: t.id(),
    userId: t.id(),
    actions: t.field({ type: [AuditActionEnum] }),
  }),
});

const AuditConnection = builder.connectionObject({ type: AuditEntryRef, name: "AuditConnection" }, { name: "AuditEdge" });

builder.queryField("auditLog", (t) =>
  t.field({
    type: AuditConnection,
    description: "ADMIN only: who requested, viewed, cancelled or retried which student's IEP or generation, newest first. `first` is 1–100 (default 50).",
    authScopes: { admin: true },
    args: { filter: t.arg({ type: AuditFilterRef }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 50;
      if (first < 1 || first > 100) throw badUserInput("first must be between 1 and 100", ["first"]);
      if (args.after && !/^\d{1,19}$/.test(args.after)) throw badUserInput("after is not a cursor from this list", ["after"]);
      for (const key of ["studentId", "userId"] as const) {
        const value = args.filter?.[key];
        if (value && !isUuid(value)) throw badUserInput(`${key} must be an id`, ["filter", key]);
      }
      const rows = await listAudit(ctx.deps.pool, ctx.viewer.schoolId, {
        studentId: args.filter?.studentId ?? null, userId: args.filter?.userId ?? null, actions: args.filter?.actions ?? null,
      }, first + 1, args.after ?? null);
      const page = rows.slice(0, first);
      return {
        edges: page.map((entry) => ({ node: entry, cursor: entry.id })),
        pageInfo: { hasNextPage: rows.length > first, hasPreviousPage: Boolean(args.after),
          startCursor: page[0]?.id ?? null, endCursor: page.at(-1)?.id ?? null },
      };
    },
  }),
);
