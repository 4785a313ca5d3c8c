/**
 * The yoga side of exact JSON (src/chain/wire-json.ts has the what and why): request bodies
 * and query strings are parsed losslessly, so JSON variables reach the JSON scalar with
 * their number lexemes; responses, plain and server-sent events alike, are stringified so
 * that JSON-scalar numbers keep theirs. graphql-ws does the same in src/server/ws.ts.
 */
import { type GraphQLParams, type Plugin, isAsyncIterable, mapAsyncIterator } from "graphql-yoga";
import { GraphQLError } from "graphql";
import { parseWireJson, stringifyExact, WireJsonError } from "../chain/wire-json.js";

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_REQUEST", http: { status: 400 } } });
}

function parseOrRefuse(text: string, what: string): unknown {
  try {
    return parseWireJson(text);
  } catch (e) {
    if (e instanceof WireJsonError) throw badRequest(`${what} is not valid JSON: ${e.message}`);
    throw e;
  }
}

function asParams(body: unknown): GraphQLParams {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw badRequest("POST body is expected to be a JSON object.");
  }
  return body as GraphQLParams;
}

/** GET query strings and form bodies: `query`, `operationName`, JSON `variables` and `extensions`. */
function fromSearchParams(params: URLSearchParams): GraphQLParams {
  const variables = params.get("variables");
  const extensions = params.get("extensions");
  return {
    query: params.get("query") || undefined,
    operationName: params.get("operationName") || undefined,
    variables: variables ? (parseOrRefuse(variables, "variables") as Record<string, unknown>) : undefined,
    extensions: extensions ? (parseOrRefuse(extensions, "extensions") as Record<string, unknown>) : undefined,
  };
}

function contentType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(",")[0]!.split(";")[0]!.trim().toLowerCase();
}

/** Attach the exact stringifier to one execution result (yoga's processors honour `result.stringify`). */
function withExactStringify<T extends object>(result: T): T {
  return { ...result, stringify: stringifyExact };
}

/**
 * Replaces yoga's JSON request parsers (POST application/json and application/graphql+json,
 * GET, POST form-urlencoded) by lossless ones and makes every response stringify exactly.
 * Multipart requests are turned off in the yoga options (app.ts): tracegate takes no uploads.
 */
export function exactJsonPlugin(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method === "GET") {
        setRequestParser((req) => fromSearchParams(new URL(req.url).searchParams));
        return;
      }
      if (request.method !== "POST") return;
      const type = contentType(request);
      if (type === "application/json" || type === "application/graphql+json") {
        setRequestParser(async (req) => asParams(parseOrRefuse(await req.text(), "The POST body")));
      } else if (type === "application/x-www-form-urlencoded") {
        setRequestParser(async (req) => fromSearchParams(new URLSearchParams(await req.text())));
      }
    },
    onResultProcess({ result, setResult }) {
      if (isAsyncIterable(result)) {
        setResult(mapAsyncIterator(result, (value) => withExactStringify(value)));
      } else if (Array.isArray(result)) {
        setResult(result.map(withExactStringify));
      } else {
        setResult(withExactStringify(result));
      }
    },
  };
}
