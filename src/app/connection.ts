/**
 * One way to answer a Relay connection (traces, revocations): page-size checks, cursors
 * decoded inside @pothos/plugin-relay's resolveCursorConnection callback, one keyset read,
 * and a typed result the GraphQL layer returns as is (no casts back).
 */
import { resolveCursorConnection } from "@pothos/plugin-relay";
import { PAGE_SIZE } from "../config.js";
import { badUserInput } from "../errors.js";
import type { CursorCodec } from "./cursor.js";

/** The Relay connection arguments as GraphQL passes them. */
export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** One page of a connection. */
export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: { startCursor: string | null; endCursor: string | null; hasPreviousPage: boolean; hasNextPage: boolean };
}

/** What one keyset read is asked for: at most `limit` nodes after/before positions; `inverted` walks backwards from `before`. */
export interface KeysetRead<Position> {
  after?: Position;
  before?: Position;
  limit: number;
  inverted: boolean;
}

export interface ConnectionOptions<Node, Position> {
  cursor: CursorCodec<Node, Position>;
  /** Read one page; nodes in the connection's order, or reversed when `inverted`. */
  read(query: KeysetRead<Position>): Promise<Node[]>;
  /**
   * Set for a keyset that runs forward only: `last` and `before` are refused with this
   * message instead of being ignored.
   */
  forwardOnly?: string;
}

function checkPageSize(name: "first" | "last", value: number | null | undefined): void {
  if (value == null) return;
  if (value < 0) throw badUserInput(`'${name}' must not be negative.`, name);
  if (value > PAGE_SIZE.max) throw badUserInput(`'${name}' must be at most ${PAGE_SIZE.max}, got ${value}.`, name);
}

/**
 * One page of a keyset connection (default PAGE_SIZE.default nodes, at most PAGE_SIZE.max).
 * @throws TracegateError BAD_USER_INPUT for first and last together, a negative or too large
 * page size, or last/before on a forward-only connection; INVALID_CURSOR for a cursor the
 * codec did not issue.
 */
export async function keysetConnection<Node, Position>(args: ConnectionArgs, options: ConnectionOptions<Node, Position>): Promise<Connection<Node>> {
  if (options.forwardOnly !== undefined) {
    if (args.last != null) throw badUserInput(options.forwardOnly, "last");
    if (args.before != null) throw badUserInput(options.forwardOnly, "before");
  }
  if (args.first != null && args.last != null) throw badUserInput("Pass either 'first' or 'last', not both.", "last");
  checkPageSize("first", args.first);
  checkPageSize("last", args.last);
  const { cursor } = options;
  const connection = await resolveCursorConnection<Promise<Node[]>>(
    {
      args: {
        first: args.first ?? undefined,
        last: args.last ?? undefined,
        after: args.after ?? undefined,
        before: args.before ?? undefined,
      },
      defaultSize: PAGE_SIZE.default,
      maxSize: PAGE_SIZE.max,
      toCursor: (node: Node) => cursor.encode(node),
    },
    ({ after, before, limit, inverted }) =>
      options.read({
        limit,
        inverted,
        ...(after === undefined ? {} : { after: cursor.decode(after, "after") }),
        ...(before === undefined ? {} : { before: cursor.decode(before, "before") }),
      }),
  );
  if (!connection) throw new Error("resolveCursorConnection returned no connection");
  return {
    edges: connection.edges.filter((e): e is { cursor: string; node: Node } => e !== null),
    pageInfo: {
      startCursor: connection.pageInfo.startCursor || null,
      endCursor: connection.pageInfo.endCursor || null,
      hasPreviousPage: connection.pageInfo.hasPreviousPage,
      hasNextPage: connection.pageInfo.hasNextPage,
    },
  };
}
