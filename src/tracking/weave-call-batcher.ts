/**
 * The Weave child's upload queue for call starts and ends (`POST /call/upsert_batch`). Items
 * arrive already JSON-encoded (`{"mode":"start","req":{...}}`), so a batch body is their texts
 * joined: each item is encoded exactly once, and nothing is re-walked to measure it.
 *
 * It keeps weave 0.11.1's batching rules (one request in flight, a partial batch waits
 * `intervalMs`, a body stays under 10 MiB, a failed batch goes back to the front of the queue and
 * is retried, more than `maxErrors` failed batches is the end), with three differences:
 * - a batch also goes out as soon as `sendAtChars` are waiting, so bodies stay a size the server
 *   parses quickly instead of growing to 10 MiB while the run is busy;
 * - the queue is consumed by index, not `Array#shift` (which copies the whole array once it lives
 *   in V8's large-object space: quadratic with tens of thousands of queued calls, the child's top
 *   self time in a profile of the old loop);
 * - an item over the bound is dropped through `onOversize` instead of blocking the queue for good.
 */

/** Options of {@link CallBatcher}. */
export interface CallBatcherOptions {
  /** Sends one `/call/upsert_batch` body (`{"batch":[...]}`); rejects with what the HTTP client threw. */
  post: (body: string) => Promise<unknown>;
  /** Called with whatever a failed request threw. */
  onError: (reason: unknown) => void;
  /** Called once when more than `maxErrors` batches have failed; nothing is sent after that. */
  onGiveUp: () => void;
  /** Called for an item longer than `maxBatchChars` (dropped). */
  onOversize: (chars: number) => void;
  /** Called after each request that the server took (room in the queue again). */
  onSent?: () => void;
  /** Longest body in characters. @default 10485760 (weave 0.11.1's MAX_BATCH_SIZE_CHARS) */
  maxBatchChars?: number;
  /** Characters waiting at which a batch goes out without waiting for the interval. @default 1048576 */
  sendAtChars?: number;
  /** Longest wait before a partial batch is sent. @default 200 (the SDK's BATCH_INTERVAL) */
  intervalMs?: number;
  /** Failed batches tolerated; one more gives up. @default 10 (the SDK's MAX_ERRORS) */
  maxErrors?: number;
}

/** Collects encoded call items and posts them in batches, one request at a time. */
export class CallBatcher {
  private items: string[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private inFlightChars = 0;
  private errors = 0;
  private intervalMs: number;
  private readonly maxBatchChars: number;
  private readonly sendAtChars: number;
  private readonly maxErrors: number;
  private idleWaiters: (() => void)[] = [];
  /** Characters queued and not yet taken by the server (the in-flight batch included). */
  pendingChars = 0;
  /** Items the server took. */
  sent = 0;
  /** True once more than `maxErrors` batches failed: the queue was dropped and nothing more is sent. */
  gaveUp = false;

  constructor(private readonly options: CallBatcherOptions) {
    this.maxBatchChars = options.maxBatchChars ?? 10 * 1024 * 1024;
    this.sendAtChars = Math.min(options.sendAtChars ?? 1024 * 1024, this.maxBatchChars);
    this.intervalMs = options.intervalMs ?? 200;
    this.maxErrors = options.maxErrors ?? 10;
  }

  /** Queues one encoded item. */
  add(text: string): void {
    if (this.gaveUp) return;
    if (text.length > this.maxBatchChars) {
      this.options.onOversize(text.length);
      return;
    }
    this.items.push(text);
    this.pendingChars += text.length;
    this.schedule();
  }

  /** From now on partial batches go out at once (nothing more is coming soon: the run is over). */
  flushEagerly(): void {
    this.intervalMs = 0;
    this.schedule();
  }

  /** Resolves when the queue is empty and no request is in flight, or the batcher gave up. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    this.flushEagerly();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.gaveUp || (this.inFlight === null && this.head === this.items.length);
  }

  private queuedChars(): number {
    return this.inFlight ? this.pendingChars - this.inFlightChars : this.pendingChars;
  }

  private schedule(): void {
    if (this.inFlight || this.gaveUp || this.head === this.items.length) return;
    if (this.intervalMs === 0 || this.queuedChars() >= this.sendAtChars) {
      this.send();
      return;
    }
    this.timer ??= setTimeout(() => this.send(), this.intervalMs);
  }

  private send(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight || this.gaveUp || this.head === this.items.length) return;
    const start = this.head;
    let chars = 0;
    let end = start;
    // The separators ("," and the envelope) are not counted, as in the SDK's loop.
    while (end < this.items.length && chars + this.items[end]!.length <= this.maxBatchChars) {
      chars += this.items[end]!.length;
      end++;
    }
    const batch = this.items.slice(start, end);
    this.head = end;
    this.compact();
    this.inFlightChars = chars;
    this.inFlight = this.options.post(`{"batch":[${batch.join(",")}]}`).then(
      () => {
        this.sent += batch.length;
        this.pendingChars -= chars;
        this.settle();
        this.options.onSent?.();
      },
      (err: unknown) => {
        this.options.onError(err);
        this.errors++;
        if (this.errors > this.maxErrors) {
          this.gaveUp = true;
          this.items = [];
          this.head = 0;
          this.pendingChars = 0;
          this.settle();
          this.options.onGiveUp();
          return;
        }
        // Back to the front, to be retried after the interval (as the SDK does).
        this.items = batch.concat(this.items.slice(this.head));
        this.head = 0;
        this.settle(true);
      },
    );
  }

  /** Drops consumed items from the array once they are most of it. */
  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private settle(failed = false): void {
    this.inFlight = null;
    this.inFlightChars = 0;
    if (this.idle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    // After a failure wait the interval even when flushing eagerly, as the SDK's timer does.
    if (failed) this.timer ??= setTimeout(() => this.send(), Math.max(this.intervalMs, 200));
    else this.schedule();
  }
}
