// Loaded with `node --import`: records every module URL the process resolves into the file named
// by $BAKEOFF_IMPORT_LOG, so a test can check what `bakeoff --help` pulls in at start-up.
import { register } from "node:module";

register(new URL("./import-log-hooks.mjs", import.meta.url), { data: { file: process.env.BAKEOFF_IMPORT_LOG } });
