import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * Typed operations for clients, from the checked-in schema.graphql. Today the operations live in
 * the tests; the web client (a later issue) adds its own documents here.
 */
const config: CodegenConfig = {
  schema: "./schema.graphql",
  documents: ["test/**/*.ts", "web/**/*.{ts,tsx}"],
  ignoreNoDocuments: true,
  generates: {
    "./src/gql-client/": {
      preset: "client",
      config: {
        useTypeImports: true,
        importExtension: ".ts",
        enumsAsTypes: true,
        scalars: { DateTime: "string", LocalDate: "string", ID: "string" },
      },
    },
  },
};

export default config;
