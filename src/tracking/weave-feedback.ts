/**
 * Batches the Weave child's score feedback. weave 0.11.1's `EvaluationLogger` attaches every score
 * to its `Model.predict` call with one `POST /feedback/create` each: two HTTP requests per result
 * with two scorers, which was most of the child's CPU (undici, socket writes, GC) and left it
 * minutes behind a 10,000-result run. The trace server has `POST /feedback/batch/create`
 * (`{batch: FeedbackCreateReq[]}` → `{res: FeedbackCreateRes[]}`), which Weave's Python client
 * uses for the same feedback; this sends the very same items through it, a batch at a time.
 *
 * A server without the batch route (404/405) gets each item through `/feedback/create` instead,
 * from then on. Failures are reported through `onError` and counted, never thrown.
 */

/** One feedback item, exactly as the SDK's `addScore` builds it for `/feedback/create`. */
export interface FeedbackItem {
  project_id: string;
  weave_ref: string;
  feedback_type: string;
  payload: Record<string, unknown>;
  runnable_ref: string;
  call_ref: string;
}

/** `weave:///<entity>/<project>/call/`: with a call id appended, that call's ref URI (as the SDK builds it). */
export function callUriPrefix(projectId: string): string {
  const [entity, project] = projectId.split("/");
  return `weave:///${entity}/${project}/call/`;
}

/** The feedback type the SDK's `addScore` gives a score: the scorer's object name, from its ref URI. */
export function scoreFeedbackType(runnableRef: string): string {
  return `wandb.runnable.${runnableRef.split("/").pop()?.split(":")[0] || "unknown"}`;
}

/** Options of {@link FeedbackBatcher}. */
export interface FeedbackBatcherOptions {
  /** Sends one batch through `/feedback/batch/create`; rejects with what the HTTP client threw. */
  postBatch: (batch: FeedbackItem[]) => Promise<unknown>;
  /** Sends one item through `/feedback/create` (the fallback for servers without the batch route). */
  postOne: (item: FeedbackItem) => Promise<unknown>;
  /** Called with whatever a failed request threw. */
  onError: (reason: unknown) => void;
  /** Items per request. @default 500 */
  maxBatch?: number;
  /** Longest wait before a partial batch is sent. @default 200 (the SDK's own call-batch interval) */
  intervalMs?: number;
  /** Requests in flight at once. @default 4 */
  maxInFlight?: number;
}

/** Collects feedback items and posts them in batches. */
export class FeedbackBatcher {
  private queue: FeedbackItem[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private batchRoute = true;
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private readonly maxInFlight: number;
  /** Items sent and acknowledged. */
  sent = 0;
  /** Items whose request failed. */
  failed = 0;

  constructor(private readonly options: FeedbackBatcherOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.intervalMs = options.intervalMs ?? 200;
    this.maxInFlight = options.maxInFlight ?? 4;
  }

  /** Queues one item; a full batch goes out at once, a partial one within `intervalMs`. */
  add(item: FeedbackItem): void {
    this.queue.push(item);
    if (this.queue.length >= this.maxBatch) this.send();
    else this.timer ??= setTimeout(() => this.send(), this.intervalMs);
  }

  /** Sends whatever is queued and resolves when every request so far has been answered. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      this.send();
      await Promise.race(this.inFlight);
    }
  }

  private send(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // Past the in-flight bound the queue keeps growing into bigger batches (one per reply).
    while (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      const p = this.post(batch).finally(() => {
        this.inFlight.delete(p);
        if (this.queue.length >= this.maxBatch) this.send();
        else if (this.queue.length > 0) this.timer ??= setTimeout(() => this.send(), this.intervalMs);
      });
      this.inFlight.add(p);
    }
  }

  private async post(batch: FeedbackItem[]): Promise<void> {
    if (this.batchRoute) {
      try {
        await this.options.postBatch(batch);
        this.sent += batch.length;
        return;
      } catch (err) {
        if (!isMissingRoute(err)) {
          this.failed += batch.length;
          this.options.onError(err);
          return;
        }
        this.batchRoute = false; // an older server: one request per item from now on
      }
    }
    await Promise.all(
      batch.map((item) =>
        this.options.postOne(item).then(
          () => void this.sent++,
          (err: unknown) => {
            this.failed++;
            this.options.onError(err);
          },
        ),
      ),
    );
  }
}

/** A 404 or 405 answer (the SDK's HTTP client rejects with the Response itself). */
function isMissingRoute(reason: unknown): boolean {
  const status = typeof reason === "object" && reason !== null && "status" in reason ? reason.status : undefined;
  return status === 404 || status === 405;
}
