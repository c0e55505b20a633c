import { clearAllDataLoaders } from "@pothos/plugin-dataloader";
import { builder } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import { findGuardiansByStudentIds, type Guardian } from "../db/students.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { setStudentGuardians } from "../services/guardians.ts";
import { StudentRef } from "./students.ts";

const GuardianRef = builder.objectRef<Guardian>("Guardian").implement({
  description: "A parent or guardian on the student's record. Their names and contact details are replaced by placeholders before anything is sent to Gemini.",
  fields: (t) => ({
    name: t.exposeString("name"),
    relationship: t.exposeString("relationship", { description: "E.g. mother, father, grandparent, legal guardian." }),
    email: t.exposeString("email", { nullable: true }),
    phone: t.exposeString("phone", { nullable: true }),
    address: t.exposeString("address", { nullable: true }),
  }),
});

builder.objectField(StudentRef, "guardians", (t) =>
  t.loadableList({
    type: GuardianRef,
    description: "The student's parents or guardians, in the order they were given.",
    load: (studentIds: string[], ctx: GraphQLContext) => findGuardiansByStudentIds(ctx.deps.pool, ctx.viewer.schoolId, studentIds),
    resolve: (s) => s.id,
  }),
);

const GuardianInputRef = builder.inputType("GuardianInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    relationship: t.string({ required: true, description: "E.g. mother, father, grandparent, legal guardian." }),
    email: t.string(),
    phone: t.string({ description: "Any common format, e.g. (503) 555-0142 or +44 20 7946 0958." }),
    address: t.string({ description: "Street address, e.g. 42 Larkspur Lane, Portland, OR 97214." }),
  }),
});

const SetStudentGuardiansInputRef = builder.inputType("SetStudentGuardiansInput", {
  fields: (t) => ({
    studentId: t.id({ required: true }),
    guardians: t.field({ type: [GuardianInputRef], required: true, description: "The whole list (at most 10); replaces the current one." }),
  }),
});

builder.mutationField("setStudentGuardians", (t) =>
  t.field({
    type: StudentRef,
    description: "Replaces a student's guardians. CASE_MANAGER (their caseload) or ADMIN.",
    authScopes: (_root, args) => ({ $all: { caseManager: true, students: [args.input.studentId] } }),
    args: { input: t.arg({ type: SetStudentGuardiansInputRef, required: true }) },
    errors: {
      types: [ValidationError, NotFoundError],
      union: { name: "SetStudentGuardiansPayload" },
      result: { name: "SetStudentGuardiansSuccess" },
      dataField: { name: "student" },
    },
    resolve: async (_root, { input }, ctx) => {
      const student = await setStudentGuardians(ctx.deps.pool, ctx.viewer, input);
      clearAllDataLoaders(ctx); // a second mutation in the same document must not read guardians cached before this one
      return student;
    },
  }),
);
