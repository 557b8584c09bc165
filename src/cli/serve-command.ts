/** `bakeoff serve`: the emulator alone, until Ctrl-C. */
import { loadConfig } from "../config/load.js";
import { DEFAULT_SIM_MODELS, startEmulator } from "../emulator/index.js";
import { ExitCode, UsageError } from "../errors.js";
import type { Io } from "./io.js";

export async function serveCommand(args: { port: number; host: string; config?: string | undefined }, io: Io): Promise<number> {
  let models = DEFAULT_SIM_MODELS as Parameters<typeof startEmulator>[0]["models"];
  if (args.config) {
    const loaded = await loadConfig(args.config);
    if (Object.keys(loaded.config.emulator.models).length > 0) models = loaded.config.emulator.models;
  }
  let emulator;
  try {
    emulator = await startEmulator({ models, host: args.host, port: args.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`port ${args.port} on ${args.host} is already in use; pick another with --port (0 picks a free one)`, { cause: err });
    if (code === "EACCES") throw new UsageError(`not allowed to listen on port ${args.port} on ${args.host}; pick a port above 1023 with --port`, { cause: err });
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`cannot listen on host "${args.host}": no such local address`, { cause: err });
    throw err;
  }
  io.out(`bakeoff emulator listening on ${emulator.url}`);
  for (const name of Object.keys(models)) io.out(`  ${name}: ${emulator.endpointFor(name)}  (POST /chat/completions, GET /info)`);
  io.out(`Multi-model route: ${emulator.url}/chat/completions with "model" in the body. Stats: ${emulator.url}/_emulator/stats. Ctrl-C to stop.`);
  await new Promise<void>((resolveDone) => {
    const stop = () => resolveDone();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await emulator.close();
  return ExitCode.ok;
}
