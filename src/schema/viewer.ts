import { builder } from "../builder.ts";
import { findSchool, findUser, UserRole as UserRoleValues, type School, type User } from "../db/schools.ts";

export const UserRoleEnum = builder.enumType("UserRole", { values: UserRoleValues.options });

const SchoolRef = builder.objectRef<School>("School").implement({
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
      resolve: async (user, _args, ctx) => (await findSchool(ctx.deps.pool, user.school_id))!,
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
