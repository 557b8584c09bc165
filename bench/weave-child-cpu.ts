/**
 * CPU of the Weave child alone: N rows × 2 models of synthetic journal records handed to the sink
 * at once (no run, no emulator), uploaded to the local fake trace server. What Weave costs per
 * result without the noise of a whole run; the whole-run ratio is bench/weave-overhead.ts.
 *
 *   npm run build && npx tsx bench/weave-child-cpu.ts [--rows 5000] [--sdk]
 *
 * --sdk sends every prediction through the SDK's EvaluationLogger (BAKEOFF_WEAVE_CALLS=sdk), for
 * comparison with the direct path. The child's CPU and peak RSS come from a preload it runs
 * (NODE_OPTIONS reaches the forked child) that appends its process.resourceUsage() at exit.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWeaveSink } from "../src/tracking/weave.js";
import { startFakeTraceServer } from "../test/helpers/fake-trace-server.js";
import { fakeManifest, fakeRecords } from "../test/helpers/weave-fixtures.js";

const argv = process.argv.slice(2);
const i = argv.indexOf("--rows");
const ROWS = i >= 0 ? Number(argv[i + 1]) : 5000;
const SDK = argv.includes("--sdk");
const MODELS = ["m0", "m1"];

const PRELOAD = `import { appendFileSync } from "node:fs";
process.on("exit", () => {
  const u = process.resourceUsage();
  appendFileSync(process.env.BENCH_USAGE_OUT, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssMb: u.maxRSS / 1024 }) + "\\n");
});
`;

const dir = await mkdtemp(join(tmpdir(), "bakeoff-bench-weave-child-"));
const server = await startFakeTraceServer();
try {
  await writeFile(join(dir, "usage.mjs"), PRELOAD);
  const usageOut = join(dir, "usage.jsonl");
  const t0 = performance.now();
  const sink = startWeaveSink({
    project: "bench/bakeoff",
    runId: "bench-run",
    manifest: fakeManifest("bench-run", MODELS, ROWS),
    onWarning: (m) => console.error(`warning: ${m}`),
    env: {
      ...process.env,
      WANDB_API_KEY: "bench-key",
      WF_TRACE_SERVER_URL: server.url,
      NODE_OPTIONS: `--import=${join(dir, "usage.mjs")}`,
      BENCH_USAGE_OUT: usageOut,
      ...(SDK ? { BAKEOFF_WEAVE_CALLS: "sdk" } : {}),
    },
    maxBacklog: Number.MAX_SAFE_INTEGER,
    finishTimeoutMs: 600_000,
  });
  for (const rec of fakeRecords(MODELS, ROWS)) sink.record(rec);
  const result = await sink.finish();
  const wallMs = performance.now() - t0;
  const usage = JSON.parse((await readFile(usageOut, "utf8")).trim().split("\n").pop()!) as {
    cpuMs: number;
    maxRssMb: number;
  };
  const results = ROWS * MODELS.length;
  console.log(
    `Weave child (${SDK ? "every prediction through the SDK" : "direct path"}), ${results.toLocaleString("en-US")} results handed over at once: ` +
      `CPU ${(usage.cpuMs / 1000).toFixed(2)} s (${Math.round((usage.cpuMs * 1000) / results)} µs/result), peak RSS ${Math.round(usage.maxRssMb)} MB, ` +
      `wall ${(wallMs / 1000).toFixed(2)} s; uploaded ${result.uploaded} (${result.direct} written directly), ok ${result.ok}; ` +
      `requests ${JSON.stringify(server.countByRoute())}`,
  );
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
