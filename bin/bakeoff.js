#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/cli-bundle/ (built by `npm install` via the prepare
// script; scripts/build-cli.mjs says why it is one bundle and not dist/'s per-module files).
import module from "node:module";
import { clearInterval, setInterval } from "node:timers";
import v8 from "node:v8";

// Node 22.1+ caches compiled modules on disk, which cuts start-up of every command; earlier
// Nodes lack the call and start as before. It must run before the CLI's modules are loaded,
// hence the dynamic import below.
module.enableCompileCache?.();

// V8 lets the old generation grow by a large factor between full collections, so a long run's RSS
// climbs with garbage, not with anything it keeps (its live heap stays ~20 MB from 10k to 100k
// rows). Growing by at most 20% per step keeps RSS near the live heap: peak RSS of a 10k-row run
// 147 → 126 MB, of a 100k-row run 189 → 158 MB, at the same CPU (8.1 s and 51 s both ways;
// `npx tsx bench/run.ts memory`, BENCHMARKS.md). Set here, before anything is allocated in bulk.
v8.setFlagsFromString("--heap-growing-percent=20");

// The young generation (new space) likewise grows to V8's maximum (2 × 16 MB) in a long run and
// stays there: a 1M-row run peaked higher than a 10k-row one for that alone. `--max-semi-space-size`
// cannot be set from here (V8 sizes the heap when the process starts), so src/util/young-generation.ts
// stops V8's growth at 16 MB (8 MB semi-spaces) through the one growth flag it reads at run time.
// Peak RSS of a 200k-row run 143 → 130 MB, side by side on Node 22 (BENCHMARKS.md, memory).
// Loaded only once a command allocates enough for V8 to grow the new space to half the ceiling
// (`--help` stays at 4 MB, a run passes 8 MB within its first second and reaches 32 MB only after
// seconds): commands that never get there do not load it (~7 ms of CPU), and a check every 250 ms
// (unref'd: it never keeps the process alive) starts it before the last doubling. An optimisation
// only: should it fail to load, the command runs on with V8's default sizing.
const NEW_SPACE_CEILING = 16 * 1024 * 1024;
const youngGenerationWatch = setInterval(() => {
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  if ((newSpace?.space_size ?? 0) < NEW_SPACE_CEILING / 2) return;
  clearInterval(youngGenerationWatch);
  import("../dist/util/young-generation.js").then(
    ({ capYoungGeneration }) => capYoungGeneration(NEW_SPACE_CEILING),
    () => undefined,
  );
}, 250).unref();

// The bundle's source maps turn an internal error's stack back into src/ positions. Off by
// default: reading them costs start-up time; BAKEOFF_DEBUG (or --enable-source-maps) turns them on.
if (process.env.BAKEOFF_DEBUG) process.setSourceMapsEnabled(true);

// `bakeoff runs | head`: the reader went away; stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const { main } = await import("../dist/cli-bundle/cli.js");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() maps every known error to an exit code; reaching here is a bug in bakeoff itself.
    console.error("bakeoff: internal error:", err);
    process.exitCode = 70;
  },
);
