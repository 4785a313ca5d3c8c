/**
 * One way to answer a Relay connection (traces, revocations): page-size checks, the
 * arguments read by @pothos/plugin-relay's parseCursorConnectionArgs (the same rules as its
 * resolveCursorConnection), one keyset read, and a typed result the GraphQL layer returns
 * as is (no casts back). Edge cursors are encoded when read, not for every row up front: a
 * page that selects no `cursor` (or only `pageInfo.endCursor`) encodes none (or one).
 */
import { parseCursorConnectionArgs } from "@pothos/plugin-relay";
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
  const parsed = parseCursorConnectionArgs({
    args: {
      first: args.first ?? undefined,
      last: args.last ?? undefined,
      after: args.after ?? undefined,
      before: args.before ?? undefined,
    },
    defaultSize: PAGE_SIZE.default,
    maxSize: PAGE_SIZE.max,
  });
  const { after, before, limit, inverted } = parsed;
  const nodes = await options.read({
    limit,
    inverted,
    ...(after === undefined ? {} : { after: cursor.decode(after, "after") }),
    ...(before === undefined ? {} : { before: cursor.decode(before, "before") }),
  });
  const trimmed = nodes.slice(0, parsed.expectedSize);
  if (inverted) trimmed.reverse();
  const edges = trimmed.map((node) => new Edge(node, cursor));
  // With no edges, the page starts and ends where it was asked to (as resolveCursorConnection has it).
  const asked = args.after ?? args.before ?? null;
  return {
    edges,
    pageInfo: {
      startCursor: edges.length > 0 ? edges[0]!.cursor || null : asked || null,
      endCursor: edges.length > 0 ? edges[edges.length - 1]!.cursor || null : asked || null,
      hasPreviousPage: parsed.hasPreviousPage(nodes.length),
      hasNextPage: parsed.hasNextPage(nodes.length),
    },
  };
}

/** One edge; its cursor is encoded when (and each time) it is read. */
class Edge<Node> {
  constructor(
    readonly node: Node,
    private readonly codec: Pick<CursorCodec<Node, unknown>, "encode">,
  ) {}

  get cursor(): string {
    return this.codec.encode(this.node);
  }
}
