/**
 * GraphQL Code Generator: the checked-in schema.graphql and the typed documents that the
 * tests use (test/gql/, from test/ops/*.graphql). Run with `npm run generate:graphql`.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  overwrite: true,
  importExtension: ".js",
  schema: "./src/schema/index.ts",
  documents: ["test/ops/**/*.graphql"],
  generates: {
    "./schema.graphql": { plugins: ["schema-ast"], config: { includeDirectives: true, sort: true } },
    "./test/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", JSONObject: "Record<string, unknown>", SafeInt: "number" },
      },
    },
  },
};

export default config;
