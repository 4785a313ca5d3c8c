/**
 * The yoga side of exact JSON (src/chain/wire-json.ts has the what and why): request bodies
 * and query strings are parsed losslessly, so JSON variables reach the JSON scalar with
 * their number lexemes; responses, plain and server-sent events alike, are stringified so
 * that JSON-scalar numbers keep theirs. graphql-ws does the same in src/http/ws.ts.
 *
 * The request body limit (413 PAYLOAD_TOO_LARGE) is enforced here too, where the body is
 * read, instead of by yoga's `maxRequestBodySize` (off in app.ts): yoga re-wraps every body
 * in a counting TransformStream and a new Request, which cost about a third of a small
 * request's GraphQL CPU. Here a body with a valid Content-Length at or under the limit is
 * read as it is, since Node's HTTP parser delivers exactly Content-Length bytes (a request
 * with both Content-Length and Transfer-Encoding is refused by Node itself); only a body
 * without one (chunked, or a stream handed to yoga.fetch) is counted chunk by chunk, and
 * given up as soon as it passes the limit.
 */
import { type GraphQLParams, type Plugin, isAsyncIterable, mapAsyncIterator } from "graphql-yoga";
import {
  type ASTVisitor,
  type ExecutionResult,
  getNamedType,
  GraphQLError,
  Kind,
  type TypeNode,
  type ValidationContext,
  type ValueNode,
  visit,
} from "graphql";
import { parseWireJson, stringifyExact, WireJsonError } from "../chain/wire-json.js";
import { serializedResult } from "../graphql/shared-execution.js";
import { httpStatusOf } from "../errors.js";

/** The refusals of yoga's own body-size check, kept as they were (mask-errors.ts maps the codes). */
function bodyTooLarge(): GraphQLError {
  return new GraphQLError("Request body too large", { extensions: { http: { status: 413 }, code: "REQUEST_ENTITY_TOO_LARGE" } });
}

function invalidContentLength(): GraphQLError {
  return new GraphQLError("Content-Length header is invalid.", { extensions: { http: { status: 400 }, code: "BAD_REQUEST" } });
}

/** Only one non-negative integer is a valid Content-Length (a comma-joined list is a smuggling attempt). */
const CONTENT_LENGTH = /^\d+$/;

/**
 * Refuse a request whose declared Content-Length is invalid or over `limit` bytes; true
 * when it declares one (and so its body is bounded by it).
 * @throws GraphQLError 400 BAD_REQUEST for an invalid header, 413 REQUEST_ENTITY_TOO_LARGE over the limit.
 */
function checkContentLength(request: Request, limit: number): boolean {
  const declared = request.headers.get("content-length");
  if (declared == null) return false;
  if (!CONTENT_LENGTH.test(declared)) throw invalidContentLength();
  if (Number(declared) > limit) throw bodyTooLarge();
  return true;
}

/**
 * The body as UTF-8 text, at most `limit` bytes. With a Content-Length (already checked by
 * checkContentLength) the body is read as is; without one it is counted chunk by chunk and
 * the stream cancelled as soon as it passes the limit, so an endless chunked body costs at
 * most `limit` bytes of memory.
 * @throws GraphQLError 413 REQUEST_ENTITY_TOO_LARGE.
 */
export async function boundedText(request: Request, limit: number): Promise<string> {
  if (request.headers.get("content-length") != null || !request.body) return request.text();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > limit) {
      void reader.cancel().catch(() => undefined);
      throw bodyTooLarge();
    }
    chunks.push(value);
  }
  // The same decoding as Request.text(): invalid UTF-8 becomes U+FFFD.
  return Buffer.concat(chunks, bytes).toString("utf8");
}

function badRequest(message: string): GraphQLError {
  // The whole request is refused: the status of BAD_USER_INPUT in the code table (src/errors.ts).
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", http: httpStatusOf({ code: "BAD_USER_INPUT" }) } });
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}

/**
 * Validation rule: no Float variable inside a JSONObject literal (`args: { ratio: $f }`).
 * graphql-js hands the scalar the coerced JS number, which cannot say whether the client
 * sent 100.0 or 100, so the hashed JSON would depend on a guess. Int, String, Boolean and
 * JSONObject variables are exact there; for floats, pass the whole object as a JSONObject
 * variable (or write the number in the literal). Installed with the GraphQL rule set
 * (limits.ts), so every transport runs it.
 */
export function floatVariableInJsonLiteralRule(context: ValidationContext): ASTVisitor {
  const declared = new Map<string, string>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const v of definition.variableDefinitions ?? []) declared.set(v.variable.name.value, namedTypeOf(v.type));
  }
  const check = (value: ValueNode) => {
    if (value.kind === Kind.VARIABLE) return; // the whole value is a variable: typed by graphql-js itself
    visit(value, {
      Variable(node) {
        if (declared.get(node.name.value) === "Float") {
          context.reportError(
            new GraphQLError(
              `Variable "$${node.name.value}" of type Float is used inside a JSONObject literal, where it cannot keep its lexeme ` +
                "(100.0 and 100 hash differently); pass the JSON value as a JSONObject variable, or write the number in the literal.",
              { nodes: node, extensions: { code: "BAD_USER_INPUT" } },
            ),
          );
        }
      },
    });
  };
  const atJsonPosition = () => getNamedType(context.getInputType())?.name === "JSONObject";
  return {
    Argument(node) {
      if (atJsonPosition()) check(node.value);
    },
    ObjectField(node) {
      if (atJsonPosition()) check(node.value);
    },
  };
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
 * The same for one result of a subscription (SSE): a result without errors or HTTP extensions
 * is serialized once, however many subscribers it goes to (the members of a live group get the
 * same result object: src/graphql/shared-execution.ts). yoga stringifies such a result as it is.
 */
function withSharedStringify<T extends object>(result: T): T {
  const r = result as { errors?: readonly unknown[]; extensions?: { http?: unknown } };
  if (r.errors?.length || r.extensions?.http) return withExactStringify(result);
  return { ...result, stringify: () => serializedResult(result as ExecutionResult) };
}

/**
 * Replaces yoga's JSON request parsers (POST application/json and application/graphql+json,
 * GET, POST form-urlencoded) by lossless ones, enforces the body limit of `maxBodyBytes`
 * on every request body (yoga's own parsers included, for the other content types), and
 * makes every response stringify exactly. Multipart requests are turned off in the yoga
 * options (app.ts): tracegate takes no uploads.
 * @throws GraphQLError 413 REQUEST_ENTITY_TOO_LARGE (PAYLOAD_TOO_LARGE to clients) or 400 for a bad Content-Length.
 */
export function exactJsonPlugin(options: { maxBodyBytes: number }): Plugin {
  const limit = options.maxBodyBytes;
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = checkContentLength(request, limit);
      if (request.method === "GET") {
        setRequestParser((req) => fromSearchParams(new URL(req.url).searchParams));
        return;
      }
      if (request.method !== "POST") return;
      const type = contentType(request);
      if (type === "application/json" || type === "application/graphql+json") {
        setRequestParser(async (req) => asParams(parseOrRefuse(await boundedText(req, limit), "The POST body")));
      } else if (type === "application/x-www-form-urlencoded") {
        setRequestParser(async (req) => fromSearchParams(new URLSearchParams(await boundedText(req, limit))));
      } else if (requestParser && request.body && !declared) {
        // Another of yoga's parsers (application/graphql): hand it the body once it is known to fit.
        const parse = requestParser;
        setRequestParser(async (req) =>
          parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, signal: req.signal, body: await boundedText(req, limit) })),
        );
      }
    },
    onResultProcess({ result, setResult }) {
      if (isAsyncIterable(result)) {
        setResult(mapAsyncIterator(result, (value) => withSharedStringify(value)));
      } else if (Array.isArray(result)) {
        setResult(result.map(withExactStringify));
      } else {
        setResult(withExactStringify(result));
      }
    },
  };
}
