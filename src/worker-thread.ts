/**
 * Request/answer over a worker thread: the verify hash pool (src/chain/hash-pool.ts) and SQLite's read thread
 * (src/stores/prisma/driver-client.ts) both use it.
 *
 * Messages: a request goes out as `{ id, request }`; the module answers through
 * `answerRequests` with `{ id, result }` or `{ id, error: { message, code } }`. The thread
 * starts on the first request and stops after `idleMs` without one; it is unref'd whenever
 * nothing is pending, so an idle thread never keeps the process alive.
 */
import { parentPort, Worker } from "node:worker_threads";

/**
 * The worker module `name` (no extension) beside the module at `base` (its import.meta.url),
 * compiled or not as that module is: `hash-worker.js` in dist/, `hash-worker.ts` when the
 * code runs from src/ (tests, benches), which WorkerThread starts through ./ts-worker.mjs.
 */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith(".ts") ? ".ts" : ".js"}`, base);
}

type Answer<R> = { id: number; result: R } | { id: number; error: { message: string; code?: string } };

/** The main-thread side of one worker. */
export class WorkerThread<Request, Result> {
  #worker: Worker | undefined;
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (result: Result) => void; reject: (e: unknown) => void }>();
  #idle: NodeJS.Timeout | undefined;

  /**
   * @param entry the module the thread runs (it calls answerRequests); a `.ts` module is
   *   started through ./ts-worker.mjs, which registers tsx in the thread first
   * @param workerData handed to the module as `workerData` (structured clone: strings, KeyObjects, ...)
   * @param idleMs the thread stops after this long without a request
   */
  constructor(
    private readonly entry: URL,
    private readonly workerData: Record<string, unknown>,
    private readonly idleMs: number,
  ) {}

  /**
   * The module's answer to `request`. Rejects with an Error carrying the module's message and
   * `code` when its handler threw, or when the thread died.
   */
  request(request: Request): Promise<Result> {
    const worker = this.#start();
    const id = ++this.#next;
    clearTimeout(this.#idle);
    return new Promise<Result>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, request });
    });
  }

  /** Stop the thread now (it would stop by itself after idleMs); pending requests reject. */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    // A worker's execArgv cannot carry `--import tsx` on Node 20, hence the shim for TypeScript.
    const typescript = this.entry.pathname.endsWith(".ts");
    const worker = new Worker(typescript ? new URL("./ts-worker.mjs", import.meta.url) : this.entry, {
      workerData: typescript ? { ...this.workerData, entry: this.entry.href } : this.workerData,
    });
    worker.unref();
    worker.on("message", (answer: Answer<Result>) => {
      const waiter = this.#waiting.get(answer.id);
      this.#waiting.delete(answer.id);
      if (this.#waiting.size === 0) {
        worker.unref();
        this.#idle = setTimeout(() => void this.close(), this.idleMs);
        this.#idle.unref();
      }
      if ("error" in answer) waiter?.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
      else waiter?.resolve(answer.result);
    });
    const fail = (e: unknown) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const w of this.#waiting.values()) w.reject(e);
      this.#waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`worker thread ${this.entry.pathname} exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }
}

/** The worker side: answer each request with `handle`'s result, or its error's message and code. */
export function answerRequests<Request, Result>(handle: (request: Request) => Result): void {
  parentPort!.on("message", ({ id, request }: { id: number; request: Request }) => {
    try {
      parentPort!.postMessage({ id, result: handle(request) });
    } catch (e) {
      const error = e as { message?: unknown; code?: unknown };
      parentPort!.postMessage({ id, error: { message: String(error?.message ?? e), code: typeof error?.code === "string" ? error.code : undefined } });
    }
  });
}
