/**
 * Streaming per-model summary of a run. The runner feeds records as results complete and
 * `bakeoff report` feeds them from the journal; both get the same numbers.
 *
 * Memory is O(models × datasets × scorers), independent of the number of records: latency
 * percentiles come from a fixed-size {@link LogHistogram} (≤0.5% relative error).
 *
 * The builder cannot retract a record, so the caller must add each journal key once — the last
 * line for that key, as the journal's "last line wins" rule says.
 */
import type { PricingSpec } from "../config/schema.js";
import type { PredictionRecord } from "../types.js";
import { LogHistogram } from "./histogram.js";

/** Statistics of one scorer over the records it applied to. */
export interface ScoreStats {
  /** Records with a numeric score. */
  n: number;
  /** Mean of the numeric scores; null when nothing was scored. */
  mean: number | null;
  /** Share of passes among scores that carry `pass`; absent for continuous scorers. */
  passRate?: number;
  /**
   * Successful calls this scorer did not score: the scorer failed, the row had no expected
   * answer, or the record has no entry for it. Failed calls are not counted here; they are
   * {@link ModelSummary.errors}.
   */
  errors: number;
}

/** One model's scores on one dataset. */
export interface DatasetSummary {
  n: number;
  errors: number;
  /** Records answered from the response cache (`--cache` hit or `--replay`): nothing was paid. */
  cached?: number;
  /** Present when the model has pricing: paid = calls sent, avoided = cached/replayed calls at list price. */
  cost?: { paid: number; avoided: number; currency: string };
  scores: Record<string, ScoreStats>;
}

export interface ModelSummary {
  model: string;
  /** Records (row × trial), failed calls included. */
  n: number;
  /** Records whose call failed. */
  errors: number;
  /** Failed calls by error kind (`rate_limit`, `timeout`, ...). */
  errorKinds: Record<string, number>;
  /** Finish reasons as sent; `none` when the service sent none, `error` for failed calls. */
  finishReasons: Record<string, number>;
  /** Per scorer, pooled over datasets where the scorer appears. Failed calls are excluded. */
  scores: Record<string, ScoreStats>;
  /** Latency of successful calls, ms; null when there were none. Percentiles within 0.5%. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; mean: number | null };
  /** Time to first token of successful streamed calls, ms; absent when the model never streamed. */
  ttftMs?: { p50: number | null; p95: number | null; mean: number | null };
  /**
   * Token usage summed over every record that reported usage. `cachedPrompt` (of prompt) and
   * `reasoning` (of completion) appear once any record reported them.
   */
  tokens: { prompt: number; completion: number; total: number; cachedPrompt?: number; reasoning?: number };
  /** Present when the model has pricing: what the calls actually sent cost (cached/replayed ones excluded). */
  cost?: { input: number; output: number; total: number; currency: string };
  /** Records answered from the response cache (`--cache` hit or `--replay`). */
  cached?: number;
  /** With pricing: list price of the cached/replayed records, a cost avoided rather than paid. */
  avoidedCost?: number;
  /** HTTP attempts over all records, and how many records needed more than one. */
  attempts: { total: number; retried: number };
  /** Records answered through the Batch API (priced at `pricing.batchDiscount`; no latency of their own). */
  batched?: number;
  /** The same score statistics split by dataset, in first-seen order. */
  datasets?: Record<string, DatasetSummary>;
}

export interface RunSummary {
  /** In the order each model's first record arrived. */
  models: ModelSummary[];
}

export interface SummaryOptions {
  /** Prices by model name (the config's `models[].name`). */
  pricing?: Record<string, PricingSpec>;
}

/** Running sums for one scorer in one model × dataset. */
class ScoreAcc {
  n = 0;
  sum = 0;
  withPass = 0;
  passed = 0;

  add(value: number, pass: boolean | undefined): void {
    this.n++;
    this.sum += value;
    if (pass !== undefined) {
      this.withPass++;
      if (pass) this.passed++;
    }
  }

  merge(other: ScoreAcc): void {
    this.n += other.n;
    this.sum += other.sum;
    this.withPass += other.withPass;
    this.passed += other.passed;
  }

  /** `eligible` = successful calls in the scope where this scorer applies. */
  stats(eligible: number): ScoreStats {
    const s: ScoreStats = { n: this.n, mean: this.n === 0 ? null : this.sum / this.n, errors: eligible - this.n };
    if (this.withPass > 0) s.passRate = this.passed / this.withPass;
    return s;
  }
}

class DatasetAcc {
  n = 0;
  errors = 0;
  cached = 0;
  /** Tokens of calls sent, and of cached/replayed records. */
  prompt = 0;
  completion = 0;
  cachedPrompt = 0;
  cachedCompletion = 0;
  /** Prompt tokens the service itself served from its prompt cache (`usage.cachedPromptTokens`), sent and replayed. */
  providerCached = 0;
  /** Of the tokens sent, those of batched calls (billed at the batch discount). */
  batchPrompt = 0;
  batchCompletion = 0;
  batchProviderCached = 0;
  replayedProviderCached = 0;
  readonly scores = new Map<string, ScoreAcc>();
}

class ModelAcc {
  n = 0;
  errors = 0;
  readonly errorKinds: Record<string, number> = {};
  readonly finishReasons: Record<string, number> = {};
  readonly latency = new LogHistogram();
  readonly ttft = new LogHistogram();
  streamed = 0;
  cachedPrompt: number | undefined;
  reasoning: number | undefined;
  prompt = 0;
  completion = 0;
  total = 0;
  attempts = 0;
  retried = 0;
  batched = 0;
  readonly datasets = new Map<string, DatasetAcc>();

  constructor(readonly model: string) {}
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Aggregates {@link PredictionRecord}s into a {@link RunSummary}, one record at a time. */
export class SummaryBuilder {
  private readonly pricing: Record<string, PricingSpec>;
  private readonly models = new Map<string, ModelAcc>();

  constructor(opts: SummaryOptions = {}) {
    this.pricing = opts.pricing ?? {};
  }

  /** Adds one record. O(number of scorers) time, no per-record memory. */
  add(record: PredictionRecord): void {
    let m = this.models.get(record.model);
    if (m === undefined) {
      m = new ModelAcc(record.model);
      this.models.set(record.model, m);
    }
    let d = m.datasets.get(record.dataset);
    if (d === undefined) {
      d = new DatasetAcc();
      m.datasets.set(record.dataset, d);
    }
    const out = record.output;
    m.n++;
    d.n++;
    m.attempts += out.attempts;
    if (out.attempts > 1) m.retried++;
    if (out.cached === true) d.cached++;
    if (out.batch !== undefined) m.batched++;
    if (out.usage !== null) {
      const providerCached = out.usage.cachedPromptTokens ?? 0;
      if (out.cached === true) {
        d.cachedPrompt += out.usage.promptTokens;
        d.cachedCompletion += out.usage.completionTokens;
        d.replayedProviderCached += providerCached;
      } else {
        d.prompt += out.usage.promptTokens;
        d.completion += out.usage.completionTokens;
        d.providerCached += providerCached;
        if (out.batch !== undefined) {
          d.batchPrompt += out.usage.promptTokens;
          d.batchCompletion += out.usage.completionTokens;
          d.batchProviderCached += providerCached;
        }
      }
      m.prompt += out.usage.promptTokens;
      m.completion += out.usage.completionTokens;
      m.total += out.usage.totalTokens;
      if (out.usage.cachedPromptTokens !== undefined)
        m.cachedPrompt = (m.cachedPrompt ?? 0) + out.usage.cachedPromptTokens;
      if (out.usage.reasoningTokens !== undefined) m.reasoning = (m.reasoning ?? 0) + out.usage.reasoningTokens;
    }
    if (out.error !== undefined) {
      m.errors++;
      d.errors++;
      bump(m.errorKinds, out.error.kind);
      bump(m.finishReasons, "error");
      return; // failed calls have no scores or meaningful latency to aggregate
    }
    bump(m.finishReasons, out.finishReason ?? "none");
    // A batched answer has no latency of its own (it waited in a queue for hours by design).
    if (out.batch === undefined) m.latency.add(out.latencyMs);
    // A replayed answer's ttft is the recorded one: still the model's, so it counts.
    if (out.ttftMs !== undefined) {
      m.ttft.add(out.ttftMs);
      m.streamed++;
    }
    // for-in, not Object.entries: no [name, score] arrays per record (a report adds a million).
    const scores = record.scores;
    for (const name in scores) {
      const score = scores[name]!;
      let acc = d.scores.get(name);
      if (acc === undefined) {
        acc = new ScoreAcc();
        d.scores.set(name, acc);
      }
      if (score.value !== null && Number.isFinite(score.value)) acc.add(score.value, score.pass);
    }
  }

  /** Snapshot of everything added so far; may be called repeatedly while records keep coming. */
  result(): RunSummary {
    return { models: [...this.models.values()].map((m) => this.summarise(m)) };
  }

  private summarise(m: ModelAcc): ModelSummary {
    const price = this.pricing[m.model];
    const paid = { prompt: 0, completion: 0, providerCached: 0 };
    const batchSaving = { input: 0, output: 0 };
    let avoided = 0;
    let cached = 0;
    const pooled = new Map<string, { acc: ScoreAcc; eligible: number }>();
    const datasets: Record<string, DatasetSummary> = {};
    for (const [name, d] of m.datasets) {
      const ok = d.n - d.errors;
      const scores: Record<string, ScoreStats> = {};
      for (const [scorer, acc] of d.scores) {
        scores[scorer] = acc.stats(ok);
        let p = pooled.get(scorer);
        if (p === undefined) {
          p = { acc: new ScoreAcc(), eligible: 0 };
          pooled.set(scorer, p);
        }
        p.acc.merge(acc);
        p.eligible += ok;
      }
      const ds: DatasetSummary = { n: d.n, errors: d.errors, scores };
      if (d.cached > 0) ds.cached = d.cached;
      if (price !== undefined) {
        ds.cost = {
          paid:
            priceOf(price, d.prompt, d.completion, d.providerCached) -
            total(batchSavingOf(price, d.batchPrompt, d.batchCompletion, d.batchProviderCached)),
          avoided: priceOf(price, d.cachedPrompt, d.cachedCompletion, d.replayedProviderCached),
          currency: price.currency,
        };
      }
      datasets[name] = ds;
      paid.prompt += d.prompt;
      paid.completion += d.completion;
      paid.providerCached += d.providerCached;
      if (price !== undefined) {
        const saving = batchSavingOf(price, d.batchPrompt, d.batchCompletion, d.batchProviderCached);
        batchSaving.input += saving.input;
        batchSaving.output += saving.output;
      }
      avoided += price === undefined ? 0 : priceOf(price, d.cachedPrompt, d.cachedCompletion, d.replayedProviderCached);
      cached += d.cached;
    }
    const scores: Record<string, ScoreStats> = {};
    for (const [scorer, p] of pooled) scores[scorer] = p.acc.stats(p.eligible);

    const summary: ModelSummary = {
      model: m.model,
      n: m.n,
      errors: m.errors,
      errorKinds: { ...m.errorKinds },
      finishReasons: { ...m.finishReasons },
      scores,
      latencyMs: {
        p50: m.latency.percentile(0.5),
        p95: m.latency.percentile(0.95),
        p99: m.latency.percentile(0.99),
        mean: m.latency.mean(),
      },
      ...(m.streamed > 0
        ? { ttftMs: { p50: m.ttft.percentile(0.5), p95: m.ttft.percentile(0.95), mean: m.ttft.mean() } }
        : {}),
      tokens: {
        prompt: m.prompt,
        completion: m.completion,
        total: m.total,
        ...(m.cachedPrompt === undefined ? {} : { cachedPrompt: m.cachedPrompt }),
        ...(m.reasoning === undefined ? {} : { reasoning: m.reasoning }),
      },
      attempts: { total: m.attempts, retried: m.retried },
      ...(m.batched > 0 ? { batched: m.batched } : {}),
      datasets,
    };
    if (cached > 0) summary.cached = cached;
    if (price !== undefined) {
      // Only calls actually sent are paid; cached and replayed answers are shown as avoided.
      // Prompt tokens the service served from its own cache are billed at their own price.
      // Batched calls are billed at the batch discount.
      const input = inputPrice(price, paid.prompt, paid.providerCached) - batchSaving.input;
      const output = (paid.completion / 1e6) * price.outputPerMillion - batchSaving.output;
      summary.cost = { input, output, total: input + output, currency: price.currency };
      if (cached > 0) summary.avoidedCost = avoided;
    }
    return summary;
  }
}

function priceOf(price: PricingSpec, prompt: number, completion: number, providerCached = 0): number {
  return inputPrice(price, prompt, providerCached) + (completion / 1e6) * price.outputPerMillion;
}

/** The batch discount on tokens sent through the Batch API (`pricing.batchDiscount`, default half price). */
export const DEFAULT_BATCH_DISCOUNT = 0.5;

/** What the batch discount takes off the list price of batched tokens, input and output. */
function batchSavingOf(
  price: PricingSpec,
  prompt: number,
  completion: number,
  providerCached: number,
): { input: number; output: number } {
  const discount = price.batchDiscount ?? DEFAULT_BATCH_DISCOUNT;
  return {
    input: inputPrice(price, prompt, providerCached) * discount,
    output: (completion / 1e6) * price.outputPerMillion * discount,
  };
}

const total = (s: { input: number; output: number }): number => s.input + s.output;

/** Prompt cost; tokens served from the service's prompt cache use `cachedInputPerMillion` when set. */
function inputPrice(price: PricingSpec, prompt: number, providerCached: number): number {
  const cached = price.cachedInputPerMillion === undefined ? 0 : Math.min(providerCached, prompt);
  return ((prompt - cached) / 1e6) * price.inputPerMillion + (cached / 1e6) * (price.cachedInputPerMillion ?? 0);
}
