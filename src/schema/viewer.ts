import { builder } from "../builder.ts";
import type { GraphQLContext } from "../context.ts";
import { findSchoolsByIds, findUser, UserRole as UserRoleValues, type User } from "../db/schools.ts";

export const UserRoleEnum = builder.enumType("UserRole", { values: UserRoleValues.options });

/** Loaded in batches per request: every user a request shows (editors, approvers, caseloads) shares one read. */
const SchoolRef = builder.loadableObjectRef("School", {
  load: (ids: string[], ctx: GraphQLContext) => findSchoolsByIds(ctx.deps.pool, ids),
  sort: (school) => school.id,
});

SchoolRef.implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
  }),
});

export const UserRef = builder.objectRef<User>("User").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    email: t.exposeString("email"),
    role: t.field({ type: UserRoleEnum, resolve: (user) => user.role }),
    school: t.field({
      type: SchoolRef,
      resolve: (user) => user.school_id,
    }),
  }),
});

builder.queryField("me", (t) =>
  t.field({
    type: UserRef,
    description: "The authenticated user.",
    authScopes: { staff: true },
    resolve: async (_root, _args, ctx) => (await findUser(ctx.deps.pool, ctx.viewer.userId))!,
  }),
);
