/**
 * What every GraphQL operation receives: the Caller of the use-case layer (src/app/caller.ts),
 * made per request by the HTTP transport and per operation by graphql-ws (src/http/app.ts).
 * Resolvers pass it straight to a use case; its trace store is already confined to the
 * viewer's principals.
 */
export type { Caller as GraphQLContext } from "../app/caller.js";
