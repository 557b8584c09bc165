#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/cli-bundle/ (built by `npm install` via the prepare
// script; scripts/build-cli.mjs says why it is one bundle and not dist/'s per-module files).
import module from "node:module";

// Node 22.1+ caches compiled modules on disk, which cuts start-up of every command; earlier
// Nodes lack the call and start as before. It must run before the CLI's modules are loaded,
// hence the dynamic import below.
module.enableCompileCache?.();

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
