/**
 * Concurrency limits for model calls: one global limiter shared by every model, and one per
 * model. A call takes its model's slot first and the global slot second, so a model waiting on
 * its own limit never holds a global slot (no head-of-line blocking, no deadlock). Per-model
 * limits can change at run time (adaptive concurrency lowers them on 429 storms).
 */
import pLimit, { type LimitFunction } from "p-limit";

export class CallLimits {
  private readonly global: LimitFunction;
  private readonly perModel = new Map<string, LimitFunction>();

  constructor(globalConcurrency: number, perModel: Record<string, number | undefined>) {
    this.global = pLimit(globalConcurrency);
    for (const [model, n] of Object.entries(perModel)) {
      this.perModel.set(model, pLimit(Math.min(n ?? globalConcurrency, globalConcurrency)));
    }
  }

  /** Runs `fn` once both the model's and the global limit allow it. */
  run<T>(model: string, fn: () => Promise<T>): Promise<T> {
    return this.limiter(model)(() => this.global(fn));
  }

  concurrency(model: string): number {
    return this.limiter(model).concurrency;
  }

  setConcurrency(model: string, n: number): void {
    this.limiter(model).concurrency = Math.max(1, Math.min(Math.floor(n), this.global.concurrency));
  }

  private limiter(model: string): LimitFunction {
    let l = this.perModel.get(model);
    if (!l) {
      l = pLimit(this.global.concurrency);
      this.perModel.set(model, l);
    }
    return l;
  }
}

/**
 * A counting gate that bounds how many tasks a producer may have outstanding (queued or
 * running), so rows are read only as fast as they are consumed: memory stays flat whatever the
 * dataset size.
 */
export class Window {
  private count = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];

  constructor(private readonly size: number) {}

  /**
   * Takes a slot: at once when one is free (returns undefined: no promise, no microtask turn for
   * the producer, which calls this once per call), else a promise that resolves with the slot.
   */
  acquire(): Promise<void> | undefined {
    if (this.count < this.size) {
      this.count++;
      return undefined;
    }
    return this.wait();
  }

  private async wait(): Promise<void> {
    while (this.count >= this.size) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.count++;
  }

  release(): void {
    this.count--;
    this.waiters.shift()?.();
    if (this.count === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Resolves when nothing is outstanding. */
  async drained(): Promise<void> {
    if (this.count === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  get outstanding(): number {
    return this.count;
  }
}
