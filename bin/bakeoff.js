#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` via the prepare script).
import module from "node:module";

// Node 22.1+ caches compiled modules on disk, which cuts start-up of every command; earlier
// Nodes lack the call and start as before. It must run before the CLI's modules are loaded,
// hence the dynamic import below.
module.enableCompileCache?.();

// `bakeoff runs | head`: the reader went away; stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const { main } = await import("../dist/cli.js");
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
