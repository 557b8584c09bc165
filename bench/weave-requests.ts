/**
 * Counts what a full `bakeoff run` of the shipped config sends to Weave, by route, against the
 * local fake trace server (run `npm run build` first): `npx tsx bench/weave-requests.ts`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeTraceServer } from "../test/helpers/fake-trace-server.js";

const repo = fileURLToPath(new URL("../", import.meta.url));
const dir = await mkdtemp(join(tmpdir(), "bakeoff-weave-requests-"));
const trace = await startFakeTraceServer();
try {
  const config = JSON.parse(await readFile(join(repo, "eval.config.json"), "utf8"));
  delete config.$schema;
  for (const d of config.datasets) d.path = join(repo, d.path);
  config.outputDir = join(dir, "results");
  config.weave = { project: "bench/bakeoff" };
  await writeFile(join(dir, "eval.config.json"), JSON.stringify(config));
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [join(repo, "bin/bakeoff.js"), "run", "--config", join(dir, "eval.config.json"), "--progress", "off"],
      {
        cwd: dir,
        env: { ...process.env, WANDB_API_KEY: "bench-dummy-key", WF_TRACE_SERVER_URL: trace.url, HOME: dir },
        stdio: "inherit",
      },
    );
    child.on("exit", resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  const byRoute = trace.countByRoute();
  const total = Object.values(byRoute).reduce((a, b) => a + b, 0);
  console.log(
    `exit ${code}; ${seconds.toFixed(1)} s; ${total} requests to the trace server: ${JSON.stringify(byRoute)}`,
  );
  console.log(
    `calls: Evaluation.evaluate ${trace.callsByOp("Evaluation.evaluate").length}, Model.predict ${trace.callsByOp("Model.predict").length}`,
  );
} finally {
  await trace.close();
  await rm(dir, { recursive: true, force: true });
}
