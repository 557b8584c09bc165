/**
 * Prints the operating characteristics of the regression gate and of the paired interval from
 * seeded simulations (the figures quoted in README's Statistics section). Deterministic.
 *
 *   npx tsx bench/decision-sim.ts [datasets=2000]
 */
import { gateFailureRate, intervalCoverage, type Scenario } from "../test/helpers/gate-sim.js";

const datasets = Number(process.argv[2] ?? 2000);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const null0: Scenario = { baseline: 0.9, change: 0, discordance: 0.2 };
const drop5: Scenario = { baseline: 0.9, change: -0.05, discordance: 0.2 };
console.log(`Regression gate ("regression", alpha 0.05), n = 1,000 rows, ${datasets} seeded datasets per line`);
console.log(`  baseline accuracy 0.90, 20% discordant rows`);
console.log(`  false-alarm rate, no change:        ${pct(gateFailureRate(null0, 1000, datasets, 1))}`);
console.log(`  power, 5-point drop:                ${pct(gateFailureRate(drop5, 1000, datasets, 2))}`);
console.log(`  power, 5-point drop, regression>2:  ${pct(gateFailureRate(drop5, 1000, datasets, 2, "regression>2"))}`);
console.log(
  `  power, 3-point drop:                ${pct(gateFailureRate({ ...drop5, change: -0.03 }, 1000, datasets, 4))}`,
);
console.log(`Paired 95% interval (Newcombe method 10) coverage, ${datasets} seeded datasets per cell`);
const scenarios: [string, Scenario][] = [
  ["0.97 → 0.95, 4% discordant", { baseline: 0.97, change: -0.02, discordance: 0.04 }],
  ["0.90 → 0.85, 20% discordant", { baseline: 0.9, change: -0.05, discordance: 0.2 }],
  ["0.50 → 0.50, 30% discordant", { baseline: 0.5, change: 0, discordance: 0.3 }],
];
for (const [label, s] of scenarios) {
  const cov = [30, 50, 300].map((n) => `n=${n} ${pct(intervalCoverage(s, n, datasets, 7 + n))}`);
  console.log(`  ${label.padEnd(30)} ${cov.join("  ")}`);
}

// Family-wise error: three identical models × three scorers (9 comparisons), 200 rows each.
{
  const { adjustFamily, comparePair, mulberry32 } = await import("../src/stats/index.js");
  const rng = mulberry32(20261129);
  const runs = Math.max(400, Math.floor(datasets / 2));
  let raw = 0;
  let holm = 0;
  for (let r = 0; r < runs; r++) {
    const verdicts = [];
    for (const p of [0.6, 0.75, 0.9]) {
      const models = [0, 1, 2].map(() => Array.from({ length: 200 }, () => (rng() < p ? 1 : 0)));
      for (let i = 0; i < 3; i++)
        for (let j = i + 1; j < 3; j++)
          verdicts.push(comparePair(models[i]!, models[j]!, { binary: true, names: ["a", "b"] }));
    }
    if (verdicts.some((v) => v.significant)) raw++;
    if (adjustFamily(verdicts).some((v) => v.significant)) holm++;
  }
  console.log(
    `Family-wise false "better" (3 identical models × 3 scorers, 200 rows, ${runs} runs): unadjusted ${pct(raw / runs)}, Holm ${pct(holm / runs)}`,
  );
}
