#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` via the prepare script).
import { main } from "../dist/cli.js";

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
