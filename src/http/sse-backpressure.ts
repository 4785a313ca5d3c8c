/**
 * A bound on what an SSE subscriber may leave unread (docs/architecture.md#live-streams: a
 * subscriber too slow to keep up never costs the server unbounded memory). yoga's event stream
 * is pull-based, so a client that stops reading stops the subscription's iterator too; this
 * wrapper adds the rule both transports share: when the client has left `maxBufferedBytes`
 * unread, and has not read on within `stallMs`, the stream ends (the connection is closed). The
 * subscription then holds nothing; the client resubscribes with `afterSeq` = the last seq it
 * received and loses nothing. graphql-ws applies the same limits in ws.ts (close 4503).
 */
import type { Plugin } from "graphql-yoga";
import type { Limits } from "../config.js";

export function sseBackpressurePlugin(limits: Pick<Limits, "subscriberMaxBufferBytes" | "subscriberStallMs">): Plugin {
  return {
    onResponse({ response, setResponse, fetchAPI, serverContext }) {
      if (!response.body || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) return;
      // The global ReadableStream: it honours the byte-counting queue (the adapter's ponyfill has a fixed one).
      const res = (serverContext as { res?: { destroy(): void } } | undefined)?.res;
      const body = boundedStream(response.body, limits, res ? () => res.destroy() : undefined);
      setResponse(new fetchAPI.Response(body, { status: response.status, statusText: response.statusText, headers: response.headers }));
    },
  };
}

/** `source` re-streamed through a queue of at most `maxBufferedBytes`, ended when the reader stalls on a full queue. */
export function boundedStream(
  source: ReadableStream<Uint8Array>,
  limits: Pick<Limits, "subscriberMaxBufferBytes" | "subscriberStallMs">,
  /** Ends the connection at once (a real server); without it the stream errors instead. */
  disconnect?: () => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let stall: NodeJS.Timeout | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Called whenever the reader made room: it is keeping up.
        clearTimeout(stall);
        const next = await reader.read();
        if (next.done) {
          controller.close();
          return;
        }
        controller.enqueue(next.value);
        if ((controller.desiredSize ?? 0) <= 0) {
          stall = setTimeout(() => {
            void reader.cancel("slow consumer").catch(() => undefined);
            // Destroying the connection drops what it buffered; closing (not erroring) the
            // stream then keeps the adapter from reporting an unhandled rejection.
            if (disconnect) {
              disconnect();
              controller.close();
            } else controller.error(new Error("SSE subscriber too slow: resubscribe with afterSeq"));
          }, limits.subscriberStallMs);
        }
      },
      cancel(reason) {
        clearTimeout(stall);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: limits.subscriberMaxBufferBytes, size: (chunk) => chunk.byteLength },
  );
}
