/**
 * keysetConnection answers as @pothos/plugin-relay's resolveCursorConnection did: the same
 * read (limit, direction, decoded positions), edges in order, page info (an empty page
 * starts and ends at the cursor it was asked from), and edge cursors that are encoded only
 * when read.
 */
import { resolveCursorConnection } from "@pothos/plugin-relay";
import { describe, expect, it } from "vitest";
import { PAGE_SIZE } from "../../../src/config.js";
import { type ConnectionArgs, keysetConnection } from "../../../src/app/connection.js";

const codec = {
  encodes: 0,
  encode(node: number) {
    this.encodes++;
    return `c${node}`;
  },
  decode: (cursor: string) => Number(cursor.slice(1)),
};

/** Rows 0..99; read returns what a keyset store would. */
function read(q: { after?: number; before?: number; limit: number; inverted: boolean }): number[] {
  const all = Array.from({ length: 100 }, (_, i) => i).filter((n) => (q.after === undefined || n > q.after) && (q.before === undefined || n < q.before));
  return (q.inverted ? all.reverse() : all).slice(0, q.limit);
}

async function viaRelay(args: ConnectionArgs) {
  const c = await resolveCursorConnection<Promise<number[]>>(
    {
      args: { first: args.first ?? undefined, last: args.last ?? undefined, after: args.after ?? undefined, before: args.before ?? undefined },
      defaultSize: PAGE_SIZE.default,
      maxSize: PAGE_SIZE.max,
      toCursor: (n: unknown) => `c${n as number}`,
    },
    async ({ after, before, limit, inverted }) =>
      read({ limit, inverted, ...(after === undefined ? {} : { after: codec.decode(after) }), ...(before === undefined ? {} : { before: codec.decode(before) }) }),
  );
  return {
    edges: c!.edges.map((e) => ({ cursor: e!.cursor, node: e!.node })),
    pageInfo: { ...c!.pageInfo, startCursor: c!.pageInfo.startCursor || null, endCursor: c!.pageInfo.endCursor || null },
  };
}

describe("keysetConnection", () => {
  const cases: ConnectionArgs[] = [
    {},
    { first: 10 },
    { first: 0 },
    { first: 10, after: "c5" },
    { first: 10, after: "c95" },
    { first: 10, after: "c99" },
    { last: 10 },
    { last: 10, before: "c50" },
    { last: 10, before: "c0" },
    { first: 5, before: "c50" },
    { last: 5, after: "c90" },
    { after: "c20", before: "c30" },
  ];
  it.each(cases)("pages as resolveCursorConnection did: %o", async (args) => {
    const ours = await keysetConnection(args, { cursor: codec, read: async (q) => read(q) });
    expect({ edges: ours.edges.map((e) => ({ cursor: e.cursor, node: e.node })), pageInfo: ours.pageInfo }).toEqual(await viaRelay(args));
  });

  it("encodes an edge's cursor only when it is read", async () => {
    codec.encodes = 0;
    const page = await keysetConnection({ first: 50 }, { cursor: codec, read: async (q) => read(q) });
    // startCursor and endCursor
    expect(codec.encodes).toBe(2);
    expect(page.edges[7]!.cursor).toBe("c7");
    expect(codec.encodes).toBe(3);
  });
});
