/**
 * The live deny feed: the newest denies over HTTP, then `denyEvents` over graphql-ws from
 * the newest seq shown. Every (re)subscription passes afterSeq = the last seq received, so
 * the gateway replays whatever was recorded while the feed was paused or the network was
 * down: no gap and no duplicate. Reconnects back off from 0.5 s to 10 s; a refused key
 * stops the feed (the session ends), a missing scope stops it with a message.
 */
import { type Client, CloseCode, createClient, type FormattedExecutionResult } from "graphql-ws";
import {
  ConsoleDenyEventsDocument,
  type ConsoleDenyEventsSubscription,
  ConsoleRecentDeniesDocument,
  type ConsoleTraceRowFragment,
} from "../gql/graphql.js";
import { ApiError, describeFailure, fromGraphQLError, GRAPHQL_PATH, request } from "./api.js";
import { fill, h } from "./dom.js";
import { timeElement } from "./time.js";

/** Denies loaded when the feed starts. */
const INITIAL_ROWS = 20;
/** Rows kept on screen; older ones drop off the bottom. */
const MAX_ROWS = 200;
/** Ping the gateway this often; a pong missing for PONG_TIMEOUT_MS means a dead connection. */
const KEEPALIVE_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;
/** Reconnect delays: doubling from the first to the last. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
/** What tracegate closes a rate-limited socket with (src/http/ws.ts). */
const CLOSE_RATE_LIMITED = 4429;

/** What the feed is doing; shown to the user and as data-state on the panel. */
export type FeedState = "idle" | "connecting" | "live" | "paused" | "reconnecting" | "stopped";

export interface FeedElements {
  panel: HTMLElement;
  list: HTMLOListElement;
  status: HTMLElement;
  toggle: HTMLButtonElement;
  reconnect: HTMLButtonElement;
}

export interface FeedOptions {
  key: string;
  elements: FeedElements;
  /** The key was refused (revoked while signed in): end the session. */
  onUnauthenticated(error: ApiError): void;
}

function socketUrl(): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${GRAPHQL_PATH}`;
}

function isCloseEvent(e: unknown): e is { code: number; reason: string } {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "number";
}

export class DenyFeed {
  private state: FeedState = "idle";
  /** Seq of the newest trace received (-1: none yet). */
  private lastSeq = -1;
  private client: Client | undefined;
  /** Bumped whenever a connection is dropped, so late callbacks of the old one are ignored. */
  private generation = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the newest denies were loaded (else a retry or resume starts over with them). */
  private started = false;
  /** What a retry does: load the newest denies, or resubscribe after lastSeq. */
  private again: () => void = () => this.connect();
  private readonly onOnline = () => {
    if (this.state === "reconnecting") this.again();
  };

  constructor(private readonly options: FeedOptions) {
    const { toggle, reconnect } = options.elements;
    toggle.addEventListener("click", () => (this.state === "paused" || this.state === "stopped" ? this.resume() : this.pause()));
    reconnect.addEventListener("click", () => this.again());
    window.addEventListener("online", this.onOnline);
  }

  /** Show the newest denies, then go live after the newest of them. */
  async start(): Promise<void> {
    this.setState("connecting", "Loading the newest denies…");
    try {
      const data = await request(ConsoleRecentDeniesDocument, { first: INITIAL_ROWS }, this.options.key);
      const rows = data.traces.edges.map((e) => e.node).reverse();
      fill(this.options.elements.list);
      for (const row of rows) this.add(row, false);
      this.lastSeq = rows.at(-1)?.seq ?? -1;
      this.started = true;
      this.showEmpty();
      this.connect();
    } catch (e) {
      this.fail(e instanceof ApiError ? e : new ApiError("ERROR", String(e)), () => void this.start());
    }
  }

  /** Stop receiving; resume() replays what arrives meanwhile. */
  pause(): void {
    this.disconnect();
    this.setState("paused", `Paused after seq ${this.lastSeq}. Resume replays every deny recorded since.`);
  }

  resume(): void {
    if (this.started) this.connect();
    else void this.start();
  }

  /** End for good (sign-out). */
  stop(): void {
    this.disconnect();
    window.removeEventListener("online", this.onOnline);
    this.setState("stopped", "Stopped.");
  }

  private connect(): void {
    this.disconnect();
    const generation = this.generation;
    const current = () => generation === this.generation;
    this.setState("connecting", `Connecting… (resuming after seq ${this.lastSeq})`);
    let socket: WebSocket | undefined;
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    const client = createClient({
      url: socketUrl(),
      connectionParams: { authorization: `Bearer ${this.options.key}` },
      lazy: true,
      lazyCloseTimeout: 0,
      retryAttempts: 0, // reconnects are ours: each one resubscribes with the newest afterSeq
      keepAlive: KEEPALIVE_MS,
      on: {
        connected: (s) => {
          socket = s as WebSocket;
          if (!current()) return;
          this.attempt = 0;
          this.showLive();
        },
        ping: (received) => {
          if (received) return;
          pongTimer = setTimeout(() => {
            if (socket?.readyState === WebSocket.OPEN) socket.close(4408, "Pong timeout");
          }, PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        closed: () => clearTimeout(pongTimer),
      },
    });
    this.client = client;
    client.subscribe<ConsoleDenyEventsSubscription>(
      { query: ConsoleDenyEventsDocument.toString(), variables: { afterSeq: this.lastSeq } },
      {
        next: (result) => current() && this.receive(result),
        error: (e) => current() && this.lost(e),
        complete: () => current() && this.lost(new Error("the gateway ended the stream")),
      },
    );
  }

  private disconnect(): void {
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    void client?.dispose();
  }

  private receive(result: FormattedExecutionResult<ConsoleDenyEventsSubscription, unknown>): void {
    if (result.errors?.length) return this.lost(result.errors);
    const event = result.data?.denyEvents;
    if (event?.trace && event.trace.seq > this.lastSeq) {
      this.lastSeq = event.trace.seq;
      this.add(event.trace, true);
    }
    if (event?.gap) {
      this.lastSeq = Math.max(this.lastSeq, event.gap.toSeq);
      this.addGap(event.gap.fromSeq, event.gap.toSeq);
    }
    this.showEmpty();
    if (this.state === "live") this.showLive();
  }

  private showLive(): void {
    this.setState("live", `Live: new denies appear at the top. Last seq received: ${this.lastSeq}.`);
  }

  /** The subscription ended: stop for a refused key or scope, reconnect otherwise. */
  private lost(e: unknown): void {
    this.disconnect();
    if (Array.isArray(e)) return this.fail(fromGraphQLError(e[0] as Parameters<typeof fromGraphQLError>[0]), () => this.connect());
    if (isCloseEvent(e)) {
      if (e.code === CloseCode.Unauthorized || e.code === CloseCode.Forbidden) {
        return this.fail(new ApiError("UNAUTHENTICATED", e.reason || "The key was refused."), () => this.connect());
      }
      if (e.code === CLOSE_RATE_LIMITED) return this.retry(`rate limited, ${e.reason}`, RETRY_MAX_MS);
      return this.retry(e.reason ? `closed with code ${e.code}, ${e.reason}` : `closed with code ${e.code}`);
    }
    this.retry(e instanceof Error ? e.message : "connection error");
  }

  private fail(error: ApiError, again: () => void): void {
    switch (error.kind) {
      case "UNAUTHENTICATED":
        this.setState("stopped", describeFailure(error));
        this.options.onUnauthenticated(error);
        return;
      case "UNREACHABLE":
      case "RATE_LIMITED":
      case "ERROR":
        return this.retry(describeFailure(error), undefined, again);
      default:
        this.setState("stopped", describeFailure(error));
    }
  }

  private retry(reason: string, minDelay = 0, again: () => void = () => this.connect()): void {
    this.attempt++;
    this.again = again;
    const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.attempt - 1));
    const delay = Math.max(minDelay, Math.round(base * (0.8 + Math.random() * 0.4)));
    this.setState(
      "reconnecting",
      `Connection lost: ${reason}. Reconnecting in ${Math.ceil(delay / 1000)} s (attempt ${this.attempt}); ` +
        `the feed resumes after seq ${this.lastSeq} with nothing missed.`,
    );
    this.retryTimer = setTimeout(again, delay);
  }

  private setState(state: FeedState, message: string): void {
    this.state = state;
    const { panel, status, toggle, reconnect } = this.options.elements;
    panel.dataset.state = state;
    status.textContent = message;
    const resumable = state === "paused" || state === "stopped";
    toggle.textContent = resumable ? "Resume" : "Pause";
    reconnect.hidden = state !== "reconnecting";
  }

  private add(trace: ConsoleTraceRowFragment, fresh: boolean): void {
    const { list } = this.options.elements;
    const item = h(
      "li",
      { class: fresh ? "feed-item fresh" : "feed-item", "data-seq": trace.seq },
      h("span", { class: "seq" }, `#${trace.seq}`),
      " ",
      timeElement(trace.invokedAt),
      " ",
      h("strong", { class: "principal" }, trace.principalId || "(no principal)"),
      " denied ",
      h("code", { class: "capability" }, trace.capabilityId),
      " ",
      h("span", { class: "badge reason" }, trace.reasonCode ?? "no reason code"),
      " ",
      h("a", { href: `#trace/${encodeURIComponent(trace.actionId)}`, class: "action" }, trace.actionId),
      trace.error ? h("span", { class: "error-text" }, ` ${trace.error}`) : null,
    );
    list.prepend(item);
    while (list.children.length > MAX_ROWS) list.lastElementChild?.remove();
  }

  private addGap(fromSeq: number, toSeq: number): void {
    this.options.elements.list.prepend(
      h("li", { class: "feed-item gap" }, `Seqs ${fromSeq}–${toSeq} were pruned before the feed could read them.`),
    );
  }

  private showEmpty(): void {
    const { list } = this.options.elements;
    const empty = list.querySelector(".empty");
    if (list.querySelector(".feed-item")) empty?.remove();
    else if (!empty) list.append(h("li", { class: "empty" }, "No denies yet. New ones appear here as they are recorded."));
  }
}
