/**
 * Request counters for the emulator, so tests and `bakeoff serve` can see what the runner actually
 * did to the "service": how many calls, how many at once, which statuses.
 */

/**
 * How long the emulator took to serve its answers (status 200 on the completion routes), ms, from
 * the request's arrival (its headers parsed) to the response finished (the last byte handed to
 * the socket): the simulated latency plus whatever the emulator's own process added (parsing,
 * answering, a busy event loop). A client's latency can be compared with this instead of the
 * configured latency. Percentiles come from a log-bucketed histogram (buckets 1% wide, so a
 * percentile is within ~0.5% of the exact one); `null` while nothing has been served.
 */
export interface ServiceTimeStats {
  /** Answers measured. */
  count: number;
  meanMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Counters for one simulated model. */
export interface ModelStats {
  requests: number;
  /** Of those, chat completion requests (what a run pays for; `/info` is not one). */
  completions: number;
  inFlight: number;
  maxInFlight: number;
  /** Responses by HTTP status code ("200", "400", ...). */
  statuses: Record<string, number>;
  /** Service time of this model's answers. */
  serviceTime: ServiceTimeStats;
}

/** Batch API counters for one simulated model. */
export interface BatchModelStats {
  /** Batches created for this model (failed ones included). */
  batches: number;
  /** Lines that entered processing (a batch that failed validation submits none). */
  linesSubmitted: number;
  /** Distinct custom_ids among them. */
  distinctCustomIds: number;
  /**
   * Custom_ids submitted in more than one batch: the proof that a resumed run did not submit a
   * line twice. Zero unless something was resubmitted (a crash, or a retry of an expired line).
   */
  duplicateCustomIds: number;
  /** Custom_ids answered with status 200 more than once: lines paid for twice. */
  answeredTwice: number;
  /** Lines answered with status 200. */
  linesCompleted: number;
  /** Lines answered with an error body (in the error file). */
  linesFailed: number;
  /** Lines left unanswered when their batch expired (`batch_expired` in the error file). */
  linesExpired: number;
  /** Lines left unanswered when their batch was cancelled. */
  linesCancelled: number;
}

/** Batch API counters (files, batches, lines). */
export interface BatchStats {
  /** Input files accepted by `POST /files`. */
  filesUploaded: number;
  batchesCreated: number;
  /** Sum of `byModel[*].duplicateCustomIds`. */
  duplicateCustomIds: number;
  byModel: Record<string, BatchModelStats>;
}

/** A snapshot of the emulator's counters (also served at `GET /_emulator/stats`). */
export interface EmulatorStats {
  /** Requests received on API routes (not `/_emulator/*`). */
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Requests attributed to a simulated model (known from the path or the body's `model`). */
  byModel: Record<string, ModelStats>;
  /** Requests by `api-version` query parameter; "" when it was absent. */
  apiVersions: Record<string, number>;
  /** Faults injected, by fault kind (`rate_limit`, `reset`, ...), over all simulated models. */
  faults: Record<string, number>;
  /** Service time of all answers, over every simulated model. */
  serviceTime: ServiceTimeStats;
  /** The Batch API's counters. */
  batch: BatchStats;
}

/** Smallest duration told apart, ms; shorter ones share the first bucket. */
const HISTOGRAM_BASE_MS = 0.01;
/** Each bucket is 1% wider than the one before it. */
const HISTOGRAM_GROWTH = 1.01;
/** Buckets up to ~10 minutes (longer durations share the last one; max stays exact). */
const HISTOGRAM_BUCKETS = Math.ceil(Math.log(600_000 / HISTOGRAM_BASE_MS) / Math.log(HISTOGRAM_GROWTH)) + 1;

/**
 * Durations in log-spaced buckets: constant memory (~6 KB) however many requests a long
 * `bakeoff serve` sees, percentiles within half a bucket (~0.5%).
 */
export class DurationHistogram {
  private readonly buckets = new Uint32Array(HISTOGRAM_BUCKETS);
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  add(ms: number): void {
    if (!(ms >= 0)) return;
    const i = ms <= HISTOGRAM_BASE_MS ? 0 : Math.floor(Math.log(ms / HISTOGRAM_BASE_MS) / Math.log(HISTOGRAM_GROWTH));
    this.buckets[Math.min(i, HISTOGRAM_BUCKETS - 1)]!++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** The `q` quantile (0..1): the geometric middle of its bucket, kept within the observed range. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) {
        const mid = HISTOGRAM_BASE_MS * HISTOGRAM_GROWTH ** (i + 0.5);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  snapshot(): ServiceTimeStats {
    const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
    return {
      count: this.count,
      meanMs: round(this.count === 0 ? null : this.sum / this.count),
      p50Ms: round(this.quantile(0.5)),
      p90Ms: round(this.quantile(0.9)),
      p99Ms: round(this.quantile(0.99)),
      maxMs: round(this.count === 0 ? null : this.max),
    };
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }
}

/**
 * A model's batch counters with the custom_id sets behind the duplicate counts. A test server
 * keeps every id it saw: memory is the price of an exact proof that nothing was sent twice.
 */
interface BatchModelCounters {
  stats: BatchModelStats;
  submitted: Set<string>;
  resubmitted: Set<string>;
  answered: Set<string>;
  answeredTwice: Set<string>;
}

/** One request being counted. */
export interface StatsTicket {
  sim: string | undefined;
  /** Which route the sim was asked for (only completion answers have a service time). */
  route: "chat" | "info" | undefined;
  done: boolean;
}

/** Mutable counters behind {@link EmulatorStats}. */
export class StatsTracker {
  private requests = 0;
  private inFlight = 0;
  private maxInFlight = 0;
  private byModel = new Map<string, Omit<ModelStats, "serviceTime">>();
  private apiVersions = new Map<string, number>();
  private faults = new Map<string, number>();
  private serviceTime = new DurationHistogram();
  private serviceTimeByModel = new Map<string, DurationHistogram>();
  private filesUploaded = 0;
  private batchesCreated = 0;
  private batchModels = new Map<string, BatchModelCounters>();

  /** Counts a request arriving. */
  begin(apiVersion: string | null): StatsTicket {
    this.requests++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const key = apiVersion ?? "";
    this.apiVersions.set(key, (this.apiVersions.get(key) ?? 0) + 1);
    return { sim: undefined, route: undefined, done: false };
  }

  /** Attributes a request to a simulated model, once the route or body names it. */
  attribute(ticket: StatsTicket, sim: string, route: "chat" | "info" = "chat"): void {
    if (ticket.sim !== undefined || ticket.done) return;
    ticket.sim = sim;
    ticket.route = route;
    const m = this.model(sim);
    m.requests++;
    if (route === "chat") m.completions++;
    m.inFlight++;
    m.maxInFlight = Math.max(m.maxInFlight, m.inFlight);
  }

  /**
   * Counts a request ending with `status`; safe to call twice (only the first counts).
   * `serviceMs` (arrival to response finished) is recorded for completion answers (status 200).
   */
  end(ticket: StatsTicket, status: number, serviceMs?: number): void {
    if (ticket.done) return;
    ticket.done = true;
    this.inFlight--;
    if (ticket.sim === undefined) return;
    const m = this.model(ticket.sim);
    m.inFlight--;
    const code = String(status);
    m.statuses[code] = (m.statuses[code] ?? 0) + 1;
    if (serviceMs !== undefined && status === 200 && ticket.route === "chat") {
      this.serviceTime.add(serviceMs);
      let h = this.serviceTimeByModel.get(ticket.sim);
      if (h === undefined) this.serviceTimeByModel.set(ticket.sim, (h = new DurationHistogram()));
      h.add(serviceMs);
    }
  }

  /** Counts a fault served instead of an answer. */
  fault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  /** Counts an input file accepted by `POST /files`. */
  fileUploaded(): void {
    this.filesUploaded++;
  }

  /** Counts a batch created for `sim` (undefined: its lines named no model served here). */
  batchCreated(sim: string | undefined): void {
    this.batchesCreated++;
    if (sim !== undefined) this.batchModel(sim).stats.batches++;
  }

  /** Counts the lines of a batch entering processing, noting custom_ids seen in an earlier batch. */
  linesSubmitted(sim: string, customIds: readonly string[]): void {
    const m = this.batchModel(sim);
    m.stats.linesSubmitted += customIds.length;
    for (const id of customIds) {
      if (!m.submitted.has(id)) m.submitted.add(id);
      else if (!m.resubmitted.has(id)) m.resubmitted.add(id);
    }
  }

  /** Counts the outcome of one batch line. */
  lineDone(sim: string, customId: string, outcome: "completed" | "failed" | "expired" | "cancelled"): void {
    const m = this.batchModel(sim);
    if (outcome === "completed") {
      m.stats.linesCompleted++;
      if (!m.answered.has(customId)) m.answered.add(customId);
      else if (!m.answeredTwice.has(customId)) m.answeredTwice.add(customId);
    } else if (outcome === "failed") m.stats.linesFailed++;
    else if (outcome === "expired") m.stats.linesExpired++;
    else m.stats.linesCancelled++;
  }

  /** A copy of the counters. */
  snapshot(): EmulatorStats {
    const byModel: Record<string, ModelStats> = {};
    for (const [name, m] of this.byModel) {
      const serviceTime = this.serviceTimeByModel.get(name)?.snapshot() ?? new DurationHistogram().snapshot();
      byModel[name] = { ...m, statuses: { ...m.statuses }, serviceTime };
    }
    return {
      requests: this.requests,
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      byModel,
      apiVersions: Object.fromEntries(this.apiVersions),
      faults: Object.fromEntries(this.faults),
      serviceTime: this.serviceTime.snapshot(),
      batch: this.batchSnapshot(),
    };
  }

  private batchSnapshot(): BatchStats {
    const byModel: Record<string, BatchModelStats> = {};
    let duplicates = 0;
    for (const [name, m] of this.batchModels) {
      byModel[name] = {
        ...m.stats,
        distinctCustomIds: m.submitted.size,
        duplicateCustomIds: m.resubmitted.size,
        answeredTwice: m.answeredTwice.size,
      };
      duplicates += m.resubmitted.size;
    }
    return {
      filesUploaded: this.filesUploaded,
      batchesCreated: this.batchesCreated,
      duplicateCustomIds: duplicates,
      byModel,
    };
  }

  private batchModel(sim: string): BatchModelCounters {
    let m = this.batchModels.get(sim);
    if (m === undefined) {
      m = {
        stats: {
          batches: 0,
          linesSubmitted: 0,
          distinctCustomIds: 0,
          duplicateCustomIds: 0,
          answeredTwice: 0,
          linesCompleted: 0,
          linesFailed: 0,
          linesExpired: 0,
          linesCancelled: 0,
        },
        submitted: new Set(),
        resubmitted: new Set(),
        answered: new Set(),
        answeredTwice: new Set(),
      };
      this.batchModels.set(sim, m);
    }
    return m;
  }

  /**
   * Zeroes the counters. Requests still in flight stay counted as in flight (they will still end),
   * so the peak restarts from the current level rather than from zero.
   */
  reset(): void {
    this.requests = 0;
    this.maxInFlight = this.inFlight;
    this.apiVersions.clear();
    this.faults.clear();
    this.serviceTime.reset();
    this.serviceTimeByModel.clear();
    this.filesUploaded = 0;
    this.batchesCreated = 0;
    this.batchModels.clear();
    for (const m of this.byModel.values()) {
      m.requests = 0;
      m.completions = 0;
      m.maxInFlight = m.inFlight;
      m.statuses = {};
    }
  }

  private model(sim: string): Omit<ModelStats, "serviceTime"> {
    let m = this.byModel.get(sim);
    if (m === undefined) {
      m = { requests: 0, completions: 0, inFlight: 0, maxInFlight: 0, statuses: {} };
      this.byModel.set(sim, m);
    }
    return m;
  }
}
