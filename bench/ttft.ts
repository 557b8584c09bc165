/**
 * Time to first token as recorded vs the emulator's configured first-token delay, per provider
 * and API, at low concurrency. Usage: `npx tsx bench/ttft.ts [delayMs] [rows]`.
 * Prints one line per (variant, concurrency): configured delay, recorded ttftMs p50/p95/max and
 * the median excess over the delay (client + loopback overhead).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, planRun, readJournal, runEvaluation, PREDICTIONS_FILE, type ConfigInput } from "../src/index.js";

const delay = Number(process.argv[2] ?? 150);
const rows = Number(process.argv[3] ?? 20);
const variants = [
  { name: "azure-ai-inference", provider: "azure-ai-inference" },
  { name: "openai-chat", provider: "openai", api: "chat" },
  { name: "openai-responses", provider: "openai", api: "responses" },
];

const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const dir = await mkdtemp(join(tmpdir(), "bakeoff-ttft-"));
try {
  const file = join(dir, "rows.jsonl");
  await writeFile(
    file,
    Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `What is ${i} + ${i * 7}?` })).join(
      "\n",
    ) + "\n",
  );
  for (const concurrency of [1, 2]) {
    for (const v of variants) {
      const config: ConfigInput = {
        concurrency,
        datasets: [{ path: file }],
        models: [{ ...v, endpoint: "emulator://sim", model: "sim", stream: true }] as never,
        emulator: { models: { sim: { latency: { firstTokenMs: delay, tokensPerSecond: 100 } } } },
      };
      const plan = await planRun(parseConfig(config, { baseDir: dir }), { env: {} });
      const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: () => {} });
      const ttft: number[] = [];
      const rate: number[] = [];
      for await (const rec of readJournal(join(result.runDir, PREDICTIONS_FILE))) {
        if (rec.output.ttftMs !== undefined) ttft.push(rec.output.ttftMs);
        if (rec.output.outputTokensPerSec !== undefined) rate.push(rec.output.outputTokensPerSec);
      }
      ttft.sort((a, b) => a - b);
      rate.sort((a, b) => a - b);
      console.log(
        `${v.name.padEnd(20)} concurrency ${concurrency}  delay ${delay} ms  ttft p50 ${pct(ttft, 0.5).toFixed(1)}  p95 ${pct(ttft, 0.95).toFixed(1)}  max ${ttft[ttft.length - 1]!.toFixed(1)}  ` +
          `median excess ${(pct(ttft, 0.5) - delay).toFixed(1)} ms  n=${ttft.length}  tokens/s p50 ${rate.length ? pct(rate, 0.5).toFixed(1) : "-"} (configured 100)`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
