/**
 * Projects a nightly of 1,000,000 rows × 3 models: how many shards, how much concurrency per
 * shard for given quotas, live vs. batch wall time and cost, every step of the arithmetic shown.
 * Nothing is timed here: the inputs are stated below (quotas, tokens, latency, prices) or read
 * from BENCHMARKS.md where bakeoff measured them (CPU per result, journal bytes per record).
 *
 *   npx tsx bench/projection.ts                 # print the section
 *   npx tsx bench/projection.ts --write         # replace it in BENCHMARKS.md (projection markers)
 *   npx tsx bench/projection.ts --cpu-us 450    # use another CPU-per-result figure
 *
 * Run it after `bench/run.ts cpu|memory --write`, so the measured inputs are the current ones
 * (`npm run bench` does both in that order).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BENCHMARKS = join(ROOT, "BENCHMARKS.md");
const START = "<!-- projection:start -->";
const END = "<!-- projection:end -->";

/** A quota scenario: what one model's deployment may do per minute. */
interface Quota {
  label: string;
  /** Tokens per minute of one model's deployment. */
  tpm: number;
  /** Requests per minute of one model's deployment. */
  rpm: number;
}

/** A model of the nightly with its list prices (USD per 1M tokens). */
interface PricedModel {
  name: string;
  like: string;
  inputPer1M: number;
  outputPer1M: number;
}

/** Everything the projection assumes; each figure is printed with the table. */
interface ProjectionInputs {
  rows: number;
  models: PricedModel[];
  inputTokens: number;
  outputTokens: number;
  /** max_tokens sent with each call: Azure OpenAI (and OpenAI) count prompt + max_tokens against TPM when admitting a call. */
  maxTokens: number;
  /** Median latency of one call, seconds. */
  latencyS: number;
  quotas: Quota[];
  /** Longest a CI job may run (GitHub-hosted: 6 h) and the part bakeoff may use (--max-duration). */
  jobLimitMin: number;
  jobBudgetMin: number;
  /** bakeoff's CPU per result, µs (measured: BENCHMARKS.md "CPU per result"). */
  cpuPerResultUs: number;
  /** Share of one core a shard's Node process is planned to use (headroom for GC, bursts, retries). */
  coreBudget: number;
  /** Journal bytes per record (measured: BENCHMARKS.md "Memory", journal on disk at 1M rows). */
  journalBytesPerRecord: number;
  batchDiscount: number;
  batchWindowH: number;
  /** Service limits of one batch input file (Azure OpenAI Global Batch). */
  batchLinesPerFile: number;
  batchBytesPerFile: number;
  /** Bytes per token of an English prompt in the batch JSONL, and the JSON envelope per line. */
  bytesPerToken: number;
  envelopeBytes: number;
}

const ceil = Math.ceil;
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const dec = (n: number, d = 1) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const usd = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 0 })}`;
const hours = (min: number) => (min >= 120 ? `${dec(min / 60)} h` : `${int(min)} min`);

/** One scenario's figures, per model deployment unless named otherwise. */
interface ScenarioResult {
  quota: Quota;
  tokensCounted: number;
  byTpm: number;
  byRpm: number;
  /** calls per minute one model may make (the tighter of the two bounds) */
  rate: number;
  bound: "TPM" | "RPM";
  perSecond: number;
  /** calls in flight per model (Little's law: rate × latency) */
  inFlight: number;
  liveMin: number;
  fitsJob: boolean;
  /** TPM one model needs to finish in the job budget */
  tpmForBudget: number;
  totalPerSecond: number;
  coresAtFullRate: number;
  shards: number;
  perShardRpm: number;
  perShardTpm: number;
  perShardInFlight: number;
}

function project(inp: ProjectionInputs): ScenarioResult[] {
  const tokensCounted = inp.inputTokens + inp.maxTokens;
  const shardCapacity = (inp.coreBudget * 1e6) / inp.cpuPerResultUs; // results/s one shard process serves
  return inp.quotas.map((quota) => {
    const byTpm = quota.tpm / tokensCounted;
    const byRpm = quota.rpm;
    const rate = Math.min(byTpm, byRpm);
    const perSecond = rate / 60;
    const liveMin = inp.rows / rate;
    const totalPerSecond = perSecond * inp.models.length;
    // Quota-bound time does not shrink with shards (each gets quota / n for rows / n), so the
    // only reason for more than one shard is the shard machine itself.
    const shards = Math.max(1, ceil(totalPerSecond / shardCapacity));
    return {
      quota,
      tokensCounted,
      byTpm,
      byRpm,
      rate,
      bound: byTpm <= byRpm ? "TPM" : "RPM",
      perSecond,
      inFlight: perSecond * inp.latencyS,
      liveMin,
      fitsJob: liveMin <= inp.jobBudgetMin,
      tpmForBudget: (inp.rows / inp.jobBudgetMin) * tokensCounted,
      totalPerSecond,
      coresAtFullRate: (totalPerSecond * inp.cpuPerResultUs) / 1e6,
      shards,
      perShardRpm: quota.rpm / shards,
      perShardTpm: quota.tpm / shards,
      perShardInFlight: (perSecond * inp.latencyS) / shards,
    };
  });
}

function renderProjection(inp: ProjectionInputs, measuredFrom: string): string {
  const results = project(inp);
  const calls = inp.rows * inp.models.length;
  const shardCapacity = (inp.coreBudget * 1e6) / inp.cpuPerResultUs;
  const a = results[0]!;
  const L: string[] = [];
  L.push(
    `_Computed by \`npx tsx bench/projection.ts --write\` from the inputs below; measured inputs read from this file (${measuredFrom}). A projection, not a measurement._`,
    "",
    "### Projection: a 1,000,000-row × 3-model nightly",
    "",
    "**Inputs** (examples: put your own quotas, prices and latencies in `bench/projection.ts`):",
    "",
    `- ${int(inp.rows)} rows × ${inp.models.length} models = ${int(calls)} calls; ${inp.inputTokens} input + ${inp.outputTokens} output tokens per call, \`max_tokens\` = ${inp.maxTokens}; median latency ${inp.latencyS} s.`,
    `- Quota per model deployment (Azure OpenAI Global Standard scale: 6 RPM per 1,000 TPM): ${inp.quotas.map((q) => `${q.label} = ${int(q.tpm)} TPM / ${int(q.rpm)} RPM`).join("; ")}. Each model has its own deployment, so the models run side by side.`,
    `- List prices per 1M tokens (input / output), USD: ${inp.models.map((m) => `${m.name} (${m.like}) $${m.inputPer1M.toFixed(2)} / $${m.outputPer1M.toFixed(2)}`).join(", ")}. Batch: ${inp.batchDiscount * 100}% of that, results within ${inp.batchWindowH} h.`,
    `- CI: GitHub-hosted jobs stop at ${inp.jobLimitMin / 60} h; the example workflow gives bakeoff ${inp.jobBudgetMin} min (\`--max-duration\`), the rest is checkout, install and upload.`,
    `- Measured: bakeoff needs **${inp.cpuPerResultUs} µs of CPU per result** and writes **${int(inp.journalBytesPerRecord)} journal bytes per record**; a shard process is planned at ${inp.coreBudget * 100}% of one core, i.e. ${int(shardCapacity)} results/s.`,
    "",
    `**Step by step** (quota ${a.quota.label}, per model):`,
    "",
    `1. Tokens a call counts against TPM when admitted = input + max_tokens = ${inp.inputTokens} + ${inp.maxTokens} = ${a.tokensCounted} (not the ${inp.inputTokens + inp.outputTokens} it finally uses: a lower \`max_tokens\` buys rate).`,
    `2. Rate bound = min(RPM, TPM / tokens per call) = min(${int(a.byRpm)}, ${int(a.quota.tpm)} / ${a.tokensCounted} = ${int(a.byTpm)}) = **${int(a.rate)} calls/min** (${a.bound}-bound) = ${dec(a.perSecond)} calls/s.`,
    `3. Concurrency (Little's law: in flight = rate × latency) = ${dec(a.perSecond)}/s × ${inp.latencyS} s = **${int(a.inFlight)} calls in flight** per model; more only queues behind the rate limiter (bakeoff's rpm/tpm limits keep it from turning into 429s), fewer leaves quota unused. Size it for the p95 latency, not the median, if that is much higher.`,
    `4. Live wall time = rows / rate = ${int(inp.rows)} / ${int(a.rate)} per min = ${int(a.liveMin)} min = **${hours(a.liveMin)}**${a.fitsJob ? `, inside the ${inp.jobBudgetMin}-min job budget` : `: over the ${inp.jobBudgetMin}-min job budget`}.`,
    `5. Shards divide the quota too (\`--shard i/n\` gives each shard rpm/n and tpm/n): n shards each do rows/n at rate/n, which takes the same ${hours(a.liveMin)}. Shards do not shorten a quota-bound run; they help when one machine is the limit.`,
    `6. One machine's load = ${inp.models.length} models × ${dec(a.perSecond)} results/s × ${inp.cpuPerResultUs} µs = ${dec(a.coresAtFullRate, 3)} of a core, against ${inp.coreBudget} planned per shard: ${a.shards === 1 ? "**one shard is enough**" : `**${a.shards} shards**`}.`,
    `7. To finish inside the job budget a model needs rows / budget × tokens per call = ${int(inp.rows)} / ${inp.jobBudgetMin} min × ${a.tokensCounted} = **${int(a.tpmForBudget)} TPM**${a.fitsJob ? "" : ` (${dec(a.tpmForBudget / a.quota.tpm)}× this quota): raise the deployment's quota, or let the job stop at \`--max-duration\` (exit 3) and resume in a follow-up job, or use the Batch API`}.`,
    `8. Shards shorten the night only if each brings its own quota: with one deployment per shard, n = ceil(live time / budget) = ceil(${int(a.liveMin)} / ${inp.jobBudgetMin}) = ${ceil(a.liveMin / inp.jobBudgetMin)} shards. bakeoff's shards share one config (\`merge\` checks the config hash), so all shards call the same endpoints: that means one endpoint with that much quota, e.g. a gateway spreading calls over ${ceil(a.liveMin / inp.jobBudgetMin)} deployments (the config's rpm/tpm set to the total), or per-shard quota behind one URL with \`"shards": { "divideLimits": false }\`.`,
    "",
    "**Live, by quota** (per model unless marked; the 3 models run side by side):",
    "",
    "| quota per model | rate bound | calls/min per model | in flight per model (rate × latency) | live wall time | fits one " +
      `${inp.jobLimitMin / 60} h job | total results/s | CPU if one machine did all | shards (machine-bound) | per shard: rpm / tpm / in flight per model |`,
    "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
  );
  for (const r of results) {
    L.push(
      `| ${r.quota.label}: ${int(r.quota.tpm)} TPM / ${int(r.quota.rpm)} RPM | ${r.bound} | ${int(r.rate)} | ${int(r.inFlight)} | ${hours(r.liveMin)} | ${r.fitsJob ? "yes" : `no (needs ${int(r.tpmForBudget)} TPM)`} | ${dec(r.totalPerSecond)} | ${dec(r.coresAtFullRate * 100)}% of a core | ${r.shards} | ${int(r.perShardRpm)} / ${int(r.perShardTpm)} / ${int(r.perShardInFlight)} |`,
    );
  }

  // Cost: the tokens actually used (input + output), live and at the batch discount.
  const inTok = inp.rows * inp.inputTokens;
  const outTok = inp.rows * inp.outputTokens;
  let live = 0;
  L.push(
    "",
    `**Cost per night** (${int(inp.rows)} calls per model: ${int(inTok / 1e6)}M input + ${int(outTok / 1e6)}M output tokens):`,
    "",
    "| model | input cost | output cost | live | batch (×" + inp.batchDiscount + ") |",
    "| --- | ---: | ---: | ---: | ---: |",
  );
  for (const m of inp.models) {
    const i = (inTok / 1e6) * m.inputPer1M;
    const o = (outTok / 1e6) * m.outputPer1M;
    live += i + o;
    L.push(
      `| ${m.name} (${m.like}) | ${int(inTok / 1e6)}M × $${m.inputPer1M.toFixed(2)} = ${usd(i)} | ${int(outTok / 1e6)}M × $${m.outputPer1M.toFixed(2)} = ${usd(o)} | ${usd(i + o)} | ${usd((i + o) * inp.batchDiscount)} |`,
    );
  }
  L.push(
    `| **all ${inp.models.length}** | | | **${usd(live)}** | **${usd(live * inp.batchDiscount)}** |`,
    "",
    `Batch saves ${usd(live * (1 - inp.batchDiscount))} a night (${usd(live * (1 - inp.batchDiscount) * 30)} over 30 nights).`,
  );

  // Batch: files, wall time, what a CI job does meanwhile.
  const lineBytes = inp.inputTokens * inp.bytesPerToken + inp.envelopeBytes;
  const byLines = ceil(inp.rows / inp.batchLinesPerFile);
  const byBytes = ceil((inp.rows * lineBytes) / inp.batchBytesPerFile);
  const files = Math.max(byLines, byBytes);
  const journal = calls * inp.journalBytesPerRecord;
  L.push(
    "",
    "**Batch vs. live:**",
    "",
    `- Files: a request line is about ${inp.inputTokens} tokens × ${inp.bytesPerToken} bytes + ${inp.envelopeBytes} bytes of JSON = ${int(lineBytes)} bytes; per model max(${int(inp.rows)} / ${int(inp.batchLinesPerFile)} lines, ${dec((inp.rows * lineBytes) / 1e6, 0)} MB / ${inp.batchBytesPerFile / 1e6} MB) = max(${byLines}, ${byBytes}) = **${files} batch files per model**, ${files * inp.models.length} in all.`,
    `- Wall time: batch jobs finish within the ${inp.batchWindowH} h window (often much sooner, never promised) and do not use the live TPM/RPM quota (Azure counts them against a separate enqueued-token quota: ${int((inp.rows * inp.inputTokens) / 1e6)}M input tokens per model enqueued at once here; check yours). Live takes ${hours(a.liveMin)} at ${a.quota.label} and ${hours(results[results.length - 1]!.liveMin)} at ${results[results.length - 1]!.quota.label}.`,
    `- In CI: ${inp.batchWindowH} h is longer than a ${inp.jobLimitMin / 60} h job, so a batch run submits, polls until \`--max-duration\`, and stops with exit 3; the batch ids are in run.json, and a re-run of the job (\`--resume\`) picks up the batches in flight instead of submitting again.`,
    `- Choose: batch when the answers may arrive by morning (half the cost, no quota contention with production traffic); live when the nightly must finish inside the job or is a regression check after a redeploy.`,
    `- One machine is not the bottleneck: all ${int(calls)} results cost ${int((calls * inp.cpuPerResultUs) / 1e6 / 60)} CPU-minutes of bakeoff in total, and the journal of the night is ${dec(journal / 1e9)} GB (${dec(journal / 1e9 / Math.max(...results.map((r) => r.shards)), 1)} GB per shard artifact at ${Math.max(...results.map((r) => r.shards))} shards).`,
  );
  return L.join("\n");
}

/** One generated table of BENCHMARKS.md (between `<!-- bench:<name>:start/end -->`) as header → cells rows. */
function table(text: string, section: string): Record<string, string>[] {
  const m = new RegExp(`<!-- bench:${section}:start -->([\\s\\S]*?)<!-- bench:${section}:end -->`).exec(text);
  const lines = (m?.[1] ?? "").split("\n").filter((l) => l.startsWith("|"));
  if (lines.length < 3) return [];
  const cells = (l: string) =>
    l
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim().replace(/\*\*/g, ""));
  const head = cells(lines[0]!);
  return lines.slice(2).map((l) => Object.fromEntries(cells(l).map((c, i) => [head[i] ?? String(i), c])));
}

const num = (s: string | undefined) => (s === undefined ? NaN : Number(s.replace(/[^\d.]/g, "")));

/**
 * The measured inputs from BENCHMARKS.md's generated sections: the whole process's CPU per result
 * at 0 ms latency (the throughput table, the costlier provider), and journal bytes per record
 * (the memory table's largest run).
 */
async function measured(): Promise<{ cpuPerResultUs: number; journalBytesPerRecord: number; from: string }> {
  const text = await readFile(BENCHMARKS, "utf8");
  const override = process.argv.indexOf("--cpu-us");
  const cpuRows = table(text, "throughput").map((r) => num(r["bakeoff CPU/result"]));
  const cpuUs = override >= 0 ? Number(process.argv[override + 1]) : Math.max(...cpuRows.filter(Number.isFinite));
  if (!Number.isFinite(cpuUs) || cpuUs <= 0) {
    throw new Error(
      'BENCHMARKS.md\'s throughput table has no "bakeoff CPU/result" figure; run `npx tsx bench/run.ts throughput --write` or pass --cpu-us N',
    );
  }
  const mem = table(text, "memory")
    .map((r) => ({ rows: num(r["rows"]), mb: num(r["journal on disk"]) }))
    .filter((r) => r.rows > 0 && r.mb > 0)
    .sort((x, y) => y.rows - x.rows)[0];
  if (!mem)
    throw new Error(
      "BENCHMARKS.md's memory table has no row with the journal size; run `npx tsx bench/run.ts memory --write`",
    );
  const journalBytesPerRecord = (mem.mb * 1024 * 1024) / mem.rows;
  const from = `${override >= 0 ? "CPU per result from --cpu-us" : "CPU per result at 0 ms (throughput table)"} and journal size at ${mem.rows.toLocaleString("en-US")} rows (memory table)`;
  return { cpuPerResultUs: cpuUs, journalBytesPerRecord, from };
}

const EXAMPLE_INPUTS: Omit<ProjectionInputs, "cpuPerResultUs" | "journalBytesPerRecord"> = {
  rows: 1_000_000,
  models: [
    { name: "small", like: "gpt-4o-mini", inputPer1M: 0.15, outputPer1M: 0.6 },
    { name: "mid", like: "gpt-4.1-mini", inputPer1M: 0.4, outputPer1M: 1.6 },
    { name: "large", like: "gpt-4o", inputPer1M: 2.5, outputPer1M: 10 },
  ],
  inputTokens: 400,
  outputTokens: 200,
  maxTokens: 256,
  latencyS: 2,
  quotas: [
    { label: "1M TPM", tpm: 1_000_000, rpm: 6_000 },
    { label: "5M TPM", tpm: 5_000_000, rpm: 30_000 },
    { label: "30M TPM", tpm: 30_000_000, rpm: 180_000 },
  ],
  jobLimitMin: 360,
  jobBudgetMin: 320,
  coreBudget: 0.5,
  batchDiscount: 0.5,
  batchWindowH: 24,
  batchLinesPerFile: 100_000,
  batchBytesPerFile: 200_000_000,
  bytesPerToken: 4,
  envelopeBytes: 300,
};

async function main(): Promise<void> {
  const m = await measured();
  const section = renderProjection(
    { ...EXAMPLE_INPUTS, cpuPerResultUs: m.cpuPerResultUs, journalBytesPerRecord: m.journalBytesPerRecord },
    m.from,
  );
  if (!process.argv.includes("--write")) {
    process.stdout.write(section + "\n");
    return;
  }
  const text = await readFile(BENCHMARKS, "utf8");
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${START} … ${END} section to replace`);
  await writeFile(BENCHMARKS, text.slice(0, a + START.length) + "\n" + section + "\n" + text.slice(b));
  process.stdout.write(`BENCHMARKS.md: projection section rewritten (${section.split("\n").length} lines)\n`);
}

await main();
