/**
 * The emitter's buffer (./emitter.ts): traces waiting to be sent, as their JSON, in emit
 * order, and the flushes waiting for them.
 *
 * - emit() is the caller's hot path, so a push allocates nothing but the JSON string it is
 *   given: parallel arrays (ids for the in-batch duplicate check) read from a head index,
 *   with settled entries compacted away lazily (amortised O(1)).
 * - Entries are numbered in emit order: `enqueued` counts entries buffered, `settled`
 *   entries removed from the head (sent or given up on). A flush waits for a number, so it
 *   resolves exactly when every trace emitted before it is settled, even when a refused trace
 *   is taken out of the middle of the in-flight batch. Everything below `due` must go out now
 *   (flush, timer, close) even as a partial batch.
 *
 * Dependency-free, like the rest of src/client.
 */

export class TraceBuffer {
  #ids: string[] = [];
  #jsons: string[] = [];
  #head = 0;
  /** Total length of the buffered JSON, in UTF-16 code units. */
  #chars = 0;
  #enqueued = 0;
  #settled = 0;
  #due = 0;
  #waiters: { target: number; resolve: () => void }[] = [];

  /** Entries buffered and not yet settled (the in-flight batch included). */
  get queued(): number {
    return this.#enqueued - this.#settled;
  }

  /** Total length of the buffered JSON, in UTF-16 code units. */
  get chars(): number {
    return this.#chars;
  }

  /** Whether a flush is waiting (a backoff must then keep the process alive). */
  get awaited(): boolean {
    return this.#waiters.length > 0;
  }

  /** Append one trace's JSON. */
  push(actionId: string, json: string): void {
    this.#ids.push(actionId);
    this.#jsons.push(json);
    this.#chars += json.length;
    this.#enqueued++;
  }

  /** Make everything buffered due now (the flush timer); false when nothing is buffered. */
  dueAll(): boolean {
    if (this.#enqueued <= this.#settled) return false;
    this.#due = this.#enqueued;
    return true;
  }

  /** Make the first `n` unsettled entries due now, at least. */
  dueFirst(n: number): void {
    this.#due = Math.max(this.#due, this.#settled + n);
  }

  /**
   * Resolves when every entry buffered now is settled; those entries become due. Callers
   * check `queued` first: with nothing buffered it resolves at once.
   */
  flushed(): Promise<void> {
    const target = this.#enqueued;
    if (this.#settled >= target) return Promise.resolve();
    if (target > this.#due) this.#due = target;
    return new Promise<void>((resolve) => this.#waiters.push({ target, resolve }));
  }

  /**
   * Size of the batch to send now, or 0: a full batch (`batchSize` entries or `maxChars`
   * of JSON), or whatever is due. A batch is cut at the size limits and before an action id
   * it already holds: the gateway refuses a batch repeating an action id even when both
   * traces are identical, while across requests an identical trace is acknowledged (and a
   * different one refused).
   */
  ready(batchSize: number, maxChars: number): number {
    const queued = this.queued;
    if (queued === 0) return 0;
    if (queued < batchSize && this.#chars < maxChars && this.#due <= this.#settled) return 0;
    const ids = new Set<string>();
    let chars = 0;
    let n = 0;
    for (let i = this.#head; n < queued && n < batchSize; i++, n++) {
      const id = this.#ids[i]!;
      const len = this.#jsons[i]!.length;
      if (n > 0 && (chars + len > maxChars || ids.has(id))) break;
      ids.add(id);
      chars += len;
    }
    return n;
  }

  /** The JSON of the first `n` unsettled entries (all of them by default). */
  peek(n = this.queued): string[] {
    return this.#jsons.slice(this.#head, this.#head + n);
  }

  /**
   * Remove the entry k places after the head (a refused trace inside the in-flight batch).
   * The entries after it move down by one, and so do the flush targets and `due` beyond it:
   * a flush still waits for exactly the traces emitted before it.
   */
  removeAt(k: number): void {
    if (k === 0) {
      this.settle(1);
      return;
    }
    const i = this.#head + k;
    const number = this.#settled + k;
    this.#chars -= this.#jsons[i]!.length;
    this.#jsons.splice(i, 1);
    this.#ids.splice(i, 1);
    this.#enqueued--;
    if (this.#due > number) this.#due--;
    for (const w of this.#waiters) if (w.target > number) w.target--;
    this.#resolveWaiters();
  }

  /** Remove n entries from the head and resolve the flushes they complete. */
  settle(n: number): void {
    for (let i = this.#head; i < this.#head + n; i++) this.#chars -= this.#jsons[i]!.length;
    this.#head += n;
    this.#settled += n;
    if (this.#head === this.#jsons.length) {
      this.#ids = [];
      this.#jsons = [];
      this.#head = 0;
      this.#chars = 0;
    } else if (this.#head >= 1_024 && this.#head * 2 >= this.#jsons.length) {
      // Amortised O(1): copy the live tail only once the dead head is at least as long.
      this.#ids = this.#ids.slice(this.#head);
      this.#jsons = this.#jsons.slice(this.#head);
      this.#head = 0;
    }
    this.#resolveWaiters();
  }

  #resolveWaiters(): void {
    while (this.#waiters.length > 0 && this.#waiters[0]!.target <= this.#settled) this.#waiters.shift()!.resolve();
  }
}
