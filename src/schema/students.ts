import { builder } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import { countAccessibleStudents, DISABILITY_CATEGORIES, findStudent, findStudentsByIds, listAccessibleStudents } from "../db/students.ts";
import { badUserInput, ValidationError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { assignedTo } from "../services/assignments.ts";
import { ageInYears, createStudent } from "../services/students.ts";

export const DisabilityCategoryEnum = builder.enumType("DisabilityCategory", {
  description: "IDEA disability categories (34 CFR §300.8).",
  values: DISABILITY_CATEGORIES,
});

/** Loaded in batches: a field returning a student id costs one query per request level, not one per row. */
export const StudentRef = builder.loadableObjectRef("Student", {
  load: (ids: string[], ctx: GraphQLContext) => findStudentsByIds(ctx.deps.pool, ctx.viewer.schoolId, ids),
  sort: (student) => student.id,
  cacheResolved: (student) => student.id,
});

StudentRef.implement({
  description: "A student of the caller's school. Visible to an ADMIN, and to users it is assigned to (their caseload).",
  authScopes: (student) => ({ student: student.id }),
  fields: (t) => ({
    id: t.exposeID("id"),
    firstName: t.exposeString("first_name"),
    lastName: t.exposeString("last_name"),
    fullName: t.string({ resolve: (s) => `${s.first_name} ${s.last_name}` }),
    dateOfBirth: t.field({ type: "LocalDate", resolve: (s) => s.date_of_birth }),
    age: t.int({ description: "Age in whole years today.", resolve: (s) => ageInYears(s.date_of_birth) }),
    grade: t.exposeString("grade", { description: "PK, K or 1–12." }),
    disabilityCategories: t.field({ type: [DisabilityCategoryEnum], resolve: (s) => s.disability_categories }),
    primaryLanguage: t.exposeString("primary_language"),
    createdAt: t.field({ type: "DateTime", resolve: (s) => s.created_at }),
  }),
});

const StudentConnection = builder.connectionObject(
  {
    type: StudentRef,
    name: "StudentConnection",
    fields: (t) => ({
      totalCount: t.int({ resolve: (_connection, _args, ctx) => countAccessibleStudents(ctx.deps.pool, ctx.viewer.schoolId, assignedTo(ctx.viewer)) }),
    }),
  },
  { name: "StudentEdge" },
);

builder.queryFields((t) => ({
  student: t.field({
    type: StudentRef,
    nullable: true,
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => (isUuid(id) ? findStudent(ctx.deps.pool, ctx.viewer.schoolId, id) : null),
  }),
  students: t.field({
    type: StudentConnection,
    description: "The students the caller may see (ADMIN: the whole school; others: their caseload), in the order they were added. `first` is 1–100 (default 20).",
    authScopes: { staff: true },
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 20;
      if (first < 1 || first > 100) throw badUserInput("first must be between 1 and 100", ["first"]);
      const afterId = args.after ? decodeCursor(args.after) : null;
      const rows = await listAccessibleStudents(ctx.deps.pool, ctx.viewer.schoolId, assignedTo(ctx.viewer), first + 1, afterId);
      const page = rows.slice(0, first);
      return {
        edges: page.map((student) => ({ node: student, cursor: encodeCursor(student.id) })),
        pageInfo: {
          hasNextPage: rows.length > first,
          hasPreviousPage: afterId !== null,
          startCursor: page[0] ? encodeCursor(page[0].id) : null,
          endCursor: page.at(-1) ? encodeCursor(page.at(-1)!.id) : null,
        },
      };
    },
  }),
}));

const CreateStudentInputRef = builder.inputType("CreateStudentInput", {
  fields: (t) => ({
    firstName: t.string({ required: true }),
    lastName: t.string({ required: true }),
    dateOfBirth: t.field({ type: "LocalDate", required: true }),
    grade: t.string({ required: true, description: "PK, K or 1–12." }),
    disabilityCategories: t.field({ type: [DisabilityCategoryEnum] }),
    primaryLanguage: t.string({ description: "Defaults to English." }),
  }),
});

builder.mutationField("createStudent", (t) =>
  t.field({
    type: StudentRef,
    description: "CASE_MANAGER or ADMIN. A case manager is assigned to the students they create.",
    authScopes: { caseManager: true },
    args: { input: t.arg({ type: CreateStudentInputRef, required: true }) },
    errors: {
      types: [ValidationError],
      union: { name: "CreateStudentPayload" },
      result: { name: "CreateStudentSuccess" },
      dataField: { name: "student" },
    },
    resolve: (_root, { input }, ctx) =>
      createStudent(ctx.deps.pool, ctx.viewer, {
        ...input,
        disabilityCategories: input.disabilityCategories ?? [],
        primaryLanguage: input.primaryLanguage ?? undefined,
      }),
  }),
);

const CURSOR_PREFIX = "student:";

function encodeCursor(id: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`).toString("base64url");
}

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, "base64url").toString();
  const id = decoded.slice(CURSOR_PREFIX.length);
  if (!decoded.startsWith(CURSOR_PREFIX) || !isUuid(id)) {
    throw badUserInput("after is not a cursor from this list", ["after"]);
  }
  return id;
}

