/** `bakeoff serve`: the emulator alone, until Ctrl-C. */
import { loadConfig } from "../config/load.js";
import { DEFAULT_SIM_MODELS, startEmulator, type EmulatorHandle } from "../emulator/index.js";
import { ExitCode, UsageError } from "../errors.js";
import type { Io } from "./io.js";

export async function serveCommand(
  args: { port: number; host: string; config?: string | undefined },
  io: Io,
): Promise<number> {
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
    throw new UsageError(`--port must be a whole number from 0 to 65535 (got ${args.port})`);
  let models = DEFAULT_SIM_MODELS as Parameters<typeof startEmulator>[0]["models"];
  if (args.config) {
    const loaded = await loadConfig(args.config);
    if (Object.keys(loaded.config.emulator.models).length > 0) models = loaded.config.emulator.models;
  }
  let emulator: EmulatorHandle;
  try {
    emulator = await startEmulator({ models, host: args.host, port: args.port });
  } catch (err) {
    // Expected failures of listen(): say what to do, in one line (exit 2).
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${args.host}:${args.port}`;
    if (code === "EADDRINUSE")
      throw new UsageError(
        `cannot listen on ${where}: the port is already in use (another bakeoff serve?). Pick another with --port, or --port 0 for any free one`,
        { cause: err },
      );
    if (code === "EACCES" || code === "EPERM")
      throw new UsageError(
        `cannot listen on ${where}: permission denied (ports below 1024 need privileges); pick another with --port`,
        { cause: err },
      );
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN")
      throw new UsageError(`cannot listen on ${where}: no such local address (--host)`, { cause: err });
    throw err;
  }
  io.out(`bakeoff emulator listening on ${emulator.url}`);
  for (const name of Object.keys(models))
    io.out(`  ${name}: ${emulator.endpointFor(name)}  (POST /chat/completions, GET /info)`);
  io.out(
    `Multi-model route: ${emulator.url}/chat/completions with "model" in the body. Stats: ${emulator.url}/_emulator/stats. Ctrl-C to stop.`,
  );
  await new Promise<void>((resolveDone) => {
    const stop = () => resolveDone();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await emulator.close();
  return ExitCode.ok;
}
