/**
 * A small GraphQL-over-SSE client for tests, over fetch (yoga's "distinct connections"
 * mode: one POST per operation, `Accept: text/event-stream`). It reads the body only when
 * asked for the next result, so a test can play a slow consumer by not asking.
 */

export interface SseResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface SseStream {
  /** HTTP status of the response. */
  status: number;
  headers: Headers;
  /**
   * The next result; undefined once the server completed the stream (`event: complete`),
   * closed it, or the client aborted. Rejects when nothing arrives within `timeoutMs`.
   * A response that is not an event stream (a refused request) yields its JSON body once.
   */
  next(timeoutMs?: number): Promise<SseResult | undefined>;
  /** Whether the server sent `event: complete`. */
  completed(): boolean;
  /** Comment lines (`:` keepalive pings) seen so far. */
  comments(): number;
  /** Close the connection (the server sees the client go away). */
  abort(): void;
}

export interface SseOptions {
  /** API key sent as `Authorization: Bearer <key>`; null: no header. */
  key: string | null;
  variables?: Record<string, unknown>;
}

/** POST `query` to `url` asking for an event stream; resolves once the response headers arrive. */
export async function sseSubscribe(url: string, query: string, options: SseOptions): Promise<SseStream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (options.key !== null) headers.authorization = `Bearer ${options.key}`;
  const res = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, ...(options.variables ? { variables: options.variables } : {}) }),
    signal: controller.signal,
  });
  let completed = false;
  let comments = 0;
  let ended = false;
  const abort = () => {
    ended = true;
    controller.abort();
  };

  if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    let body: SseResult | undefined = (await res.json()) as SseResult;
    return {
      status: res.status,
      headers: res.headers,
      next: async () => {
        const b = body;
        body = undefined;
        return b;
      },
      completed: () => true,
      comments: () => 0,
      abort,
    };
  }

  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  /** Parse one frame; returns a result for `event: next`. */
  const frame = (text: string): SseResult | undefined => {
    let event = "message";
    const data: string[] = [];
    for (const line of text.split("\n")) {
      if (line.startsWith(":")) comments++;
      else if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (event === "complete") {
      completed = true;
      return undefined;
    }
    if ((event === "next" || event === "message") && data.length > 0) return JSON.parse(data.join("\n")) as SseResult;
    return undefined;
  };
  const read = async (): Promise<SseResult | undefined> => {
    for (;;) {
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const result = frame(text);
        if (result) return result;
        if (completed) {
          ended = true;
          return undefined;
        }
      }
      if (ended) return undefined;
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (ended) return undefined; // aborted by us
        throw e;
      }
      if (chunk.done) {
        ended = true;
        return undefined;
      }
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
    }
  };
  /** A read that outlived its caller's timeout is handed to the next caller, never doubled. */
  let inflight: Promise<SseResult | undefined> | null = null;
  return {
    status: res.status,
    headers: res.headers,
    next: (timeoutMs = 10_000) => {
      const pending = (inflight ??= read().finally(() => (inflight = null)));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no SSE result within ${timeoutMs} ms`)), timeoutMs);
      });
      return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
    },
    completed: () => completed,
    comments: () => comments,
    abort,
  };
}
