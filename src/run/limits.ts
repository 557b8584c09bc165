/**
 * Concurrency limits for model calls: one global limiter shared by every model, and one per
 * model. A call takes its model's slot first and the global slot second, so a model waiting on
 * its own limit never holds a global slot (no head-of-line blocking, no deadlock). Per-model
 * limits can change at run time (adaptive concurrency lowers them on 429 storms).
 */
export class CallLimits {
  private readonly global: Gate;
  private readonly perModel = new Map<string, Gate>();

  constructor(globalConcurrency: number, perModel: Record<string, number | undefined>) {
    this.global = new Gate(checkedLimit(globalConcurrency));
    for (const [model, n] of Object.entries(perModel)) {
      this.perModel.set(model, new Gate(checkedLimit(Math.min(n ?? globalConcurrency, globalConcurrency))));
    }
  }

  /**
   * Runs `fn` once both the model's and the global limit allow it: at once (synchronously) when
   * both have a free slot, else when the slots it waits for free up, first come first served.
   * Settles as `fn`'s promise does.
   *
   * Two counters and two FIFO queues rather than two p-limit limiters: this runs once per model
   * call, and the nested limiters cost ~8 promises and as many microtask turns per call.
   */
  run<T>(model: string, fn: () => Promise<T>): Promise<T> {
    const gate = this.gate(model);
    return new Promise<T>((resolve, reject) => {
      const task: Task = () => {
        let result: Promise<T>;
        try {
          result = fn();
        } catch (err) {
          result = Promise.reject(err);
        }
        result.then(
          (value) => {
            this.release(gate);
            resolve(value);
          },
          (err: unknown) => {
            this.release(gate);
            reject(err);
          },
        );
      };
      if (gate.active < gate.limit) {
        gate.active++;
        this.takeGlobal(task);
      } else {
        gate.queue.push(task);
      }
    });
  }

  concurrency(model: string): number {
    return this.gate(model).limit;
  }

  setConcurrency(model: string, n: number): void {
    const gate = this.gate(model);
    gate.limit = Math.max(1, Math.min(Math.floor(n), this.global.limit));
    // Calls a raised limit lets through start on a later microtask, not inside the caller (the
    // adaptive controller reacts to an attempt from within that call's retry loop).
    queueMicrotask(() => this.pump(gate));
  }

  /** A task holding its model's slot: starts now if a global slot is free, else queues for one. */
  private takeGlobal(task: Task): void {
    const g = this.global;
    if (g.active < g.limit) {
      g.active++;
      task();
    } else {
      g.queue.push(task);
    }
  }

  /** A call finished: its global slot goes to the longest waiting task, then its model's slot. */
  private release(gate: Gate): void {
    const g = this.global;
    g.active--;
    gate.active--;
    if (g.active < g.limit && g.queue.length > 0) {
      g.active++;
      g.queue.shift()!();
    }
    this.pump(gate);
  }

  private pump(gate: Gate): void {
    while (gate.active < gate.limit && gate.queue.length > 0) {
      gate.active++;
      this.takeGlobal(gate.queue.shift()!);
    }
  }

  private gate(model: string): Gate {
    let g = this.perModel.get(model);
    if (!g) {
      g = new Gate(this.global.limit);
      this.perModel.set(model, g);
    }
    return g;
  }
}

type Task = () => void;

/** One limit: its slots in use and the tasks waiting for one, in arrival order. */
class Gate {
  active = 0;
  readonly queue: Task[] = [];
  constructor(public limit: number) {}
}

/** p-limit's check, kept: a limit is a whole number ≥ 1, or Infinity. */
function checkedLimit(n: number): number {
  if (!((Number.isSafeInteger(n) || n === Number.POSITIVE_INFINITY) && n > 0)) {
    throw new TypeError("Expected `concurrency` to be a number from 1 and up");
  }
  return n;
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
