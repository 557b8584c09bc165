/** `bakeoff serve`: the emulator alone. */
import { defineCommand } from "../command.js";

export default defineCommand({
  description:
    "Serves simulated models over HTTP (Azure AI model inference API: POST /chat/completions, GET /info) until Ctrl-C, for other tools or for endpoints in a config. Without --config: the built-in small and large.",
  options: {
    port: { alias: "p", type: "number", default: 8765, describe: "Port to listen on (0: any free port)" },
    host: { type: "string", default: "127.0.0.1", describe: "Address to listen on" },
    config: {
      alias: "c",
      type: "string",
      describe: "Serve the simulated models of this config (emulator.models and the built-in presets)",
    },
  },
  examples: [
    ["$0 serve", "small and large on http://127.0.0.1:8765"],
    ["$0 serve --port 9000 --config eval.config.json", "The config's simulated models on port 9000"],
  ],
  run: async (args, io) => (await import("../serve-command.js")).serveCommand(args, io),
});
