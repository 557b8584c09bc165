/** `bakeoff schema`: the JSON Schema of the config file, for editors. */
import { writeFile } from "node:fs/promises";
import { ExitCode } from "../../errors.js";
import { defineCommand } from "../command.js";

export default defineCommand({
  description:
    "Prints the JSON Schema of eval.config.json (generated from the same definitions the loader checks), or writes it with --write.",
  options: {
    write: {
      type: "string",
      describe: "Write it to this file instead of printing it (--write alone: eval.config.schema.json)",
    },
  },
  examples: [
    ["$0 schema --write", "Write eval.config.schema.json (referenced by $schema in the config)"],
    ["$0 schema > schema.json", "Print it"],
  ],
  run: async (args, io) => {
    const { configJsonSchema } = await import("../../config/json-schema.js");
    const text = JSON.stringify(configJsonSchema(), null, 2) + "\n";
    if (args.write === undefined) io.out(text.trimEnd());
    else {
      const file = args.write === "" ? "eval.config.schema.json" : args.write;
      await writeFile(file, text, "utf8");
      io.out(`wrote ${file}`);
    }
    return ExitCode.ok;
  },
});
