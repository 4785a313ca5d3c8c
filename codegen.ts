/**
 * GraphQL Code Generator: the checked-in schema.graphql, the typed documents that the
 * tests use (test/gql/, from test/ops/*.graphql) and those of the audit console
 * (console/gql/, from console/ops/*.graphql). Run with `npm run generate:graphql`.
 */
import type { CodegenConfig } from "@graphql-codegen/cli";

/** Settings both typed-document outputs share. */
const typedDocuments = {
  preset: "client",
  presetConfig: { fragmentMasking: false },
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    scalars: { DateTime: "string", JSONObject: "Record<string, unknown>", SafeInt: "number" },
  },
} as const;

const config: CodegenConfig = {
  overwrite: true,
  importExtension: ".js",
  schema: "./src/graphql/index.ts",
  generates: {
    "./schema.graphql": { plugins: ["schema-ast"], config: { includeDirectives: true, sort: true } },
    "./test/gql/": { ...typedDocuments, documents: ["test/ops/**/*.graphql"] },
    // The browser bundle sends documents as strings: no graphql-js (print) in the page.
    "./console/gql/": {
      ...typedDocuments,
      documents: ["console/ops/**/*.graphql"],
      config: { ...typedDocuments.config, documentMode: "string" },
    },
  },
};

export default config;
