import { clearAllDataLoaders } from "@pothos/plugin-dataloader";
import { builder } from "../builder.ts";
import { listAssignedStudentIds } from "../db/assignments.ts";
import { findStudentsByIds } from "../db/students.ts";
import { badUserInput, NotFoundError, ValidationError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { assignStudent, unassignStudent, type StudentAssignmentView } from "../services/assignments.ts";
import { StudentRef } from "./students.ts";
import { UserRef } from "./viewer.ts";

const StudentAssignmentRef = builder.objectRef<StudentAssignmentView>("StudentAssignment").implement({
  description: "A student on a user's caseload: the user may see the student and draft for them.",
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (a) => a.user }),
    student: t.field({ type: StudentRef, resolve: (a) => a.student }),
  }),
});

const StudentAssignmentInputRef = builder.inputType("StudentAssignmentInput", {
  fields: (t) => ({
    userId: t.id({ required: true }),
    studentId: t.id({ required: true }),
  }),
});

builder.queryField("caseload", (t) =>
  t.field({
    type: [StudentRef],
    description: "The students assigned to a user, oldest assignment first. ADMIN, or the user themselves.",
    authScopes: (_root, args) => ({ admin: true, self: args.userId }),
    args: { userId: t.arg.id({ required: true }) },
    resolve: async (_root, { userId }, ctx) => {
      if (!isUuid(userId)) throw badUserInput("userId must be an id", ["userId"]);
      const ids = await listAssignedStudentIds(ctx.deps.pool, ctx.viewer.schoolId, userId);
      const students = new Map((await findStudentsByIds(ctx.deps.pool, ctx.viewer.schoolId, ids)).map((s) => [s.id, s]));
      return ids.flatMap((id) => students.get(id) ?? []);
    },
  }),
);

builder.mutationFields((t) => ({
  assignStudent: t.field({
    type: StudentAssignmentRef,
    description: "ADMIN: puts a student on a user's caseload (no-op when already there). Takes effect on the user's next request.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: StudentAssignmentInputRef, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: "AssignStudentPayload" },
      result: { name: "AssignStudentSuccess" },
      dataField: { name: "assignment" },
    },
    resolve: async (_root, { input }, ctx) => {
      const assignment = await assignStudent(ctx.deps.pool, ctx.viewer, input);
      clearAllDataLoaders(ctx);
      return assignment;
    },
  }),
  unassignStudent: t.field({
    type: StudentAssignmentRef,
    description: "ADMIN: takes a student off a user's caseload (no-op when not there). Takes effect on the user's next request.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: StudentAssignmentInputRef, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: "UnassignStudentPayload" },
      result: { name: "UnassignStudentSuccess" },
      dataField: { name: "assignment" },
    },
    resolve: async (_root, { input }, ctx) => {
      const assignment = await unassignStudent(ctx.deps.pool, ctx.viewer, input);
      clearAllDataLoaders(ctx);
      return assignment;
    },
  }),
}));
