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
 * - no queue of items is shifted one by one (`Array#shift` copies the whole array once it lives
 *   in V8's large-object space: quadratic with tens of thousands of queued calls, the child's top
 *   self time in a profile of the old loop): items go straight into their batch's body;
 * - an item over the bound is dropped through `onOversize` instead of blocking the queue for good.
 */

/** Options of {@link CallBatcher}. */
export interface CallBatcherOptions {
  /** Sends one `/call/upsert_batch` body (`{"batch":[...]}`, UTF-8); rejects with what the HTTP client threw. */
  post: (body: Buffer) => Promise<unknown>;
  /** Called with whatever a failed request threw. */
  onError: (reason: unknown) => void;
  /** Called once when more than `maxErrors` batches have failed; nothing is sent after that. */
  onGiveUp: () => void;
  /** Called for an item longer than `maxBatchChars` (dropped). */
  onOversize: (chars: number) => void;
  /** Called after each request that the server took (room in the queue again). */
  onSent?: () => void;
  /** Longest body in characters (items only). @default 10485760 (weave 0.11.1's MAX_BATCH_SIZE_CHARS) */
  maxBatchChars?: number;
  /** Characters at which a batch is closed and sent without waiting for the interval. @default 1048576 */
  sendAtChars?: number;
  /** Longest wait before a partial batch is sent. @default 200 (the SDK's BATCH_INTERVAL) */
  intervalMs?: number;
  /** Failed batches tolerated; one more gives up. @default 10 (the SDK's MAX_ERRORS) */
  maxErrors?: number;
}

interface Batch {
  body: Buffer;
  chars: number;
}

const OPEN = Buffer.from('{"batch":[');
const COMMA = 0x2c;
const CLOSE = Buffer.from("]}");

/**
 * Collects encoded call items and posts them in batches, one request at a time. Each item is
 * written as UTF-8 into its batch's body as it arrives, so its string is garbage at once (young
 * generation) instead of living until the batch is sent, and no body-sized string is ever built.
 */
export class CallBatcher {
  /** The batch being filled. */
  private open: Buffer | null = null;
  private openBytes = 0;
  /** Characters of the items in the open batch (never-empty JSON texts: 0 means no item yet). */
  private openChars = 0;
  /** Closed batches waiting to be sent, oldest first (a failed one goes back to the front). */
  private closed: Batch[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private errors = 0;
  private intervalMs: number;
  private readonly maxBatchChars: number;
  private readonly sendAtChars: number;
  private readonly maxErrors: number;
  private idleWaiters: (() => void)[] = [];
  /** Characters queued and not yet taken by the server (the in-flight batch included). */
  pendingChars = 0;
  /** True once more than `maxErrors` batches failed: the queue was dropped and nothing more is sent. */
  gaveUp = false;

  constructor(private readonly options: CallBatcherOptions) {
    this.maxBatchChars = options.maxBatchChars ?? 10 * 1024 * 1024;
    this.sendAtChars = Math.min(options.sendAtChars ?? 1024 * 1024, this.maxBatchChars);
    this.intervalMs = options.intervalMs ?? 200;
    this.maxErrors = options.maxErrors ?? 10;
  }

  /** Queues one encoded item (`{"mode":…,"req":…}`). */
  add(text: string): void {
    if (this.gaveUp) return;
    if (text.length > this.maxBatchChars) {
      this.options.onOversize(text.length);
      return;
    }
    if (this.open && this.openChars + text.length > this.maxBatchChars) this.close();
    // Room for a comma, the item at 3 bytes per UTF-16 unit at most, and the closing bracket.
    this.reserve(1 + 3 * text.length + CLOSE.length);
    const buf = this.open!;
    if (this.openChars > 0) buf[this.openBytes++] = COMMA;
    this.openBytes += buf.write(text, this.openBytes);
    this.openChars += text.length;
    this.pendingChars += text.length;
    if (this.openChars >= this.sendAtChars) this.close();
    this.schedule();
  }

  /** From now on partial batches go out at once (nothing more is coming soon: the run is over). */
  flushEagerly(): void {
    this.intervalMs = 0;
    this.schedule();
  }

  /** Resolves when everything queued has been taken by the server, or the batcher gave up. */
  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    this.flushEagerly();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    return this.gaveUp || (!this.inFlight && this.closed.length === 0 && this.open === null);
  }

  /** Makes sure the open batch has `bytes` more bytes of room (starting one if there is none). */
  private reserve(bytes: number): void {
    if (!this.open) {
      // Sized for a batch that is sent when full: growing (copying) it would cost as much again.
      this.open = Buffer.allocUnsafe(Math.max(Math.ceil(this.sendAtChars * 1.25), OPEN.length + bytes));
      this.openBytes = OPEN.copy(this.open, 0);
      this.openChars = 0;
      return;
    }
    if (this.openBytes + bytes <= this.open.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.open.length * 2, this.openBytes + bytes));
    this.open.copy(grown, 0, 0, this.openBytes);
    this.open = grown;
  }

  /** Ends the open batch's body and queues it for sending. */
  private close(): void {
    if (!this.open) return;
    this.openBytes += CLOSE.copy(this.open, this.openBytes);
    this.closed.push({ body: this.open.subarray(0, this.openBytes), chars: this.openChars });
    this.open = null;
  }

  private schedule(): void {
    if (this.inFlight || this.gaveUp) return;
    if (this.closed.length === 0 && this.open && this.intervalMs === 0) this.close();
    if (this.closed.length > 0) {
      this.send();
      return;
    }
    if (this.open) this.timer ??= setTimeout(() => this.onTimer(), this.intervalMs);
  }

  private onTimer(): void {
    this.timer = null;
    if (this.inFlight || this.gaveUp) return;
    if (this.closed.length === 0) this.close();
    this.send();
  }

  private send(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.closed.shift();
    if (!batch) return;
    this.inFlight = true;
    this.options.post(batch.body).then(
      () => {
        this.pendingChars -= batch.chars;
        this.settle();
        this.options.onSent?.();
      },
      (err: unknown) => {
        this.options.onError(err);
        this.errors++;
        if (this.errors > this.maxErrors) {
          this.gaveUp = true;
          this.open = null;
          this.closed = [];
          this.pendingChars = 0;
          this.settle();
          this.options.onGiveUp();
          return;
        }
        // Back to the front, to be retried after the interval (as the SDK does).
        this.closed.unshift(batch);
        this.settle(true);
      },
    );
  }

  private settle(failed = false): void {
    this.inFlight = false;
    if (this.idle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    // After a failure wait the interval even when flushing eagerly, as the SDK's timer does.
    if (failed) this.timer ??= setTimeout(() => this.onTimer(), Math.max(this.intervalMs, 200));
    else this.schedule();
  }
}
