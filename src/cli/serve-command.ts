/** `bakeoff serve`: the emulator alone, until Ctrl-C. */
import { loadConfig } from "../config/load.js";
import { DEFAULT_SIM_MODELS, startEmulator } from "../emulator/index.js";
import { ExitCode } from "../errors.js";
import type { Io } from "./io.js";

export async function serveCommand(args: { port: number; host: string; config?: string | undefined }, io: Io): Promise<number> {
  let models = DEFAULT_SIM_MODELS as Parameters<typeof startEmulator>[0]["models"];
  if (args.config) {
    const loaded = await loadConfig(args.config);
    if (Object.keys(loaded.config.emulator.models).length > 0) models = loaded.config.emulator.models;
  }
  const emulator = await startEmulator({ models, host: args.host, port: args.port });
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
