/**
 * A stand-in for the gateway's `recordTraceRecords` on a real local socket (node:http), for
 * the shipper's unit tests: each request is handed to a reply function that answers with a
 * status, headers and a body, or acknowledges every record (the default).
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface SeenRequest {
  headers: IncomingHttpHeaders;
  query: string;
  /** The `$records` texts of the request. */
  records: string[];
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON, a string as it is. */
  body: unknown;
}

export type ReplyFn = (request: SeenRequest, n: number) => Reply;

/** Acknowledge every record, as the gateway does (`{seq, actionId}` each, in order). */
export const acknowledgeAll: ReplyFn = (request) => ({
  status: 200,
  body: { data: { recordTraceRecords: request.records.map((text, i) => ({ seq: i, actionId: (JSON.parse(text) as { action_id: string }).action_id })) } },
});

/** A GraphQL error answer as the gateway writes it. */
export const refusal = (status: number, code: string, message: string, extensions: Record<string, unknown> = {}): Reply => ({
  status,
  body: { errors: [{ message, extensions: { code, ...extensions } }] },
});

export interface StandIn {
  url: string;
  requests: SeenRequest[];
  /** Replace how requests are answered. */
  reply: ReplyFn;
  close(): Promise<void>;
}

export async function standIn(reply: ReplyFn = acknowledgeAll): Promise<StandIn> {
  const requests: SeenRequest[] = [];
  const state: { reply: ReplyFn } = { reply };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { query: string; variables: { records: string[] } };
      const seen = { headers: req.headers, query: body.query, records: body.variables.records };
      requests.push(seen);
      const answer = state.reply(seen, requests.length);
      const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    requests,
    get reply() {
      return state.reply;
    },
    set reply(fn: ReplyFn) {
      state.reply = fn;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
