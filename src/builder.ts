import SchemaBuilder from "@pothos/core";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import type { GraphQLContext } from "./context.ts";
import { loadStudentAccess, mayAccessRecord, mayAccessStudents, type StudentAccess } from "./services/assignments.ts";

/**
 * What a request may do (`authScopes` on fields and types). `student`/`students`/`generation`/`iep`/
 * `batch` pass when the records' students are accessible to the viewer (ADMIN: the whole school;
 * others: their assignments) or are not in the viewer's school at all (those then look non-existent).
 */
export interface AuthScopes {
  /** Any authenticated user of the school. */
  staff: boolean;
  /** CASE_MANAGER or ADMIN. */
  caseManager: boolean;
  admin: boolean;
  /** The viewer is this user. */
  self: string;
  student: string;
  students: readonly string[];
  generation: string;
  iep: string;
  batch: string;
}

/** The one Pothos builder. It defines no types: each src/schema/<domain>.ts adds its own. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    LocalDate: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
    /** An upload (GraphQL multipart request spec), parsed by yoga; input only. */
    File: { Input: File; Output: never };
  };
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  errors: { defaultTypes: [] },
  scopeAuth: {
    authorizeOnSubscribe: true,
    runScopesOnType: true,
    unauthorizedError: () => forbidden(),
    authScopes: (ctx) => {
      const { pool } = ctx.deps;
      const { viewer } = ctx;
      let access: Promise<StudentAccess> | undefined;
      const loaded = () => (access ??= loadStudentAccess(pool, viewer));
      return {
        staff: true,
        caseManager: viewer.role === "CASE_MANAGER" || viewer.role === "ADMIN",
        admin: viewer.role === "ADMIN",
        self: (userId) => userId === viewer.userId,
        student: async (id) => mayAccessStudents(pool, viewer, await loaded(), [id]),
        students: async (ids) => mayAccessStudents(pool, viewer, await loaded(), ids),
        generation: async (id) => mayAccessRecord(pool, viewer, await loaded(), "generation", id),
        iep: async (id) => mayAccessRecord(pool, viewer, await loaded(), "iep", id),
        batch: async (id) => mayAccessRecord(pool, viewer, await loaded(), "batch", id),
      };
    },
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
  },
});

/** A refusal by role or caseload: a GraphQL error with `extensions.code = "FORBIDDEN"` (never masked). */
export function forbidden(): GraphQLError {
  return new GraphQLError("Forbidden: your role or caseload does not allow this", { extensions: { code: "FORBIDDEN" } });
}

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
