/**
 * Request counters for the emulator, so tests and `bakeoff serve` can see what the runner actually
 * did to the "service": how many calls, how many at once, which statuses.
 */

/** Counters for one simulated model. */
export interface ModelStats {
  requests: number;
  /** Of those, chat completion requests (what a run pays for; `/info` is not one). */
  completions: number;
  inFlight: number;
  maxInFlight: number;
  /** Responses by HTTP status code ("200", "400", ...). */
  statuses: Record<string, number>;
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
}

/** One request being counted. */
export interface StatsTicket {
  sim: string | undefined;
  done: boolean;
}

/** Mutable counters behind {@link EmulatorStats}. */
export class StatsTracker {
  private requests = 0;
  private inFlight = 0;
  private maxInFlight = 0;
  private byModel = new Map<string, ModelStats>();
  private apiVersions = new Map<string, number>();
  private faults = new Map<string, number>();

  /** Counts a request arriving. */
  begin(apiVersion: string | null): StatsTicket {
    this.requests++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const key = apiVersion ?? "";
    this.apiVersions.set(key, (this.apiVersions.get(key) ?? 0) + 1);
    return { sim: undefined, done: false };
  }

  /** Attributes a request to a simulated model, once the route or body names it. */
  attribute(ticket: StatsTicket, sim: string, route: "chat" | "info" = "chat"): void {
    if (ticket.sim !== undefined || ticket.done) return;
    ticket.sim = sim;
    const m = this.model(sim);
    m.requests++;
    if (route === "chat") m.completions++;
    m.inFlight++;
    m.maxInFlight = Math.max(m.maxInFlight, m.inFlight);
  }

  /** Counts a request ending with `status`; safe to call twice (only the first counts). */
  end(ticket: StatsTicket, status: number): void {
    if (ticket.done) return;
    ticket.done = true;
    this.inFlight--;
    if (ticket.sim === undefined) return;
    const m = this.model(ticket.sim);
    m.inFlight--;
    const code = String(status);
    m.statuses[code] = (m.statuses[code] ?? 0) + 1;
  }

  /** Counts a fault served instead of an answer. */
  fault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  /** A copy of the counters. */
  snapshot(): EmulatorStats {
    const byModel: Record<string, ModelStats> = {};
    for (const [name, m] of this.byModel) byModel[name] = { ...m, statuses: { ...m.statuses } };
    return {
      requests: this.requests,
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      byModel,
      apiVersions: Object.fromEntries(this.apiVersions),
      faults: Object.fromEntries(this.faults),
    };
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
    for (const m of this.byModel.values()) {
      m.requests = 0;
      m.completions = 0;
      m.maxInFlight = m.inFlight;
      m.statuses = {};
    }
  }

  private model(sim: string): ModelStats {
    let m = this.byModel.get(sim);
    if (m === undefined) {
      m = { requests: 0, completions: 0, inFlight: 0, maxInFlight: 0, statuses: {} };
      this.byModel.set(sim, m);
    }
    return m;
  }
}
