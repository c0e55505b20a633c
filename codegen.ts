import type { CodegenConfig } from "@graphql-codegen/cli";

/** Shared by both client-preset outputs: string scalars, type-only imports, `.ts` import paths. */
const presetConfig = {
  useTypeImports: true,
  importExtension: ".ts",
  enumsAsTypes: true,
  scalars: { DateTime: "string", LocalDate: "string", ID: "string" },
};

/**
 * Everything generated from the checked-in schema.graphql (`npm run codegen`):
 * - web/src/gql/: typed documents for the web page's operations (client preset), the union and
 *   interface map Apollo's InMemoryCache needs (`possibleTypes`), and the introspection result
 *   urql Graphcache takes as `schema`. Committed: CI fails when they are stale (.ci/run).
 * - src/gql-client/: typed documents for the tests' operations, a local convenience (gitignored).
 */
const config: CodegenConfig = {
  schema: "./schema.graphql",
  ignoreNoDocuments: true,
  generates: {
    "./web/src/gql/": {
      documents: ["web/src/**/*.ts", "!web/src/gql/**"],
      preset: "client",
      config: presetConfig,
    },
    "./web/src/gql/possible-types.ts": {
      plugins: ["fragment-matcher"],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
    "./web/src/gql/introspection.json": {
      plugins: ["introspection"],
      config: { minify: true, descriptions: false },
    },
    "./src/gql-client/": {
      documents: ["test/**/*.ts"],
      preset: "client",
      config: presetConfig,
    },
  },
};

export default config;
