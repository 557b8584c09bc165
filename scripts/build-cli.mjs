// Bundles the command line (src/cli.ts and everything it imports, with its ES-module dependencies)
// into dist/cli-bundle/, the files bin/bakeoff.js loads. Run by `npm run build` after tsc, whose
// per-module dist/ stays the library (`import ... from "bakeoff-eval"`) and the Weave child.
//
// Why: a run used to resolve, read and link ~170 modules of dist/ and node_modules one by one
// before its first call; Node's loader (resolution, package.json lookups, realpath, linking) was
// the largest single item of a start-up profile, and the compile cache does not remove it. One
// bundle split per command (`splitting`: each dynamic import() becomes its own chunk) keeps
// `--help` as lean as before: it loads the entry, the yargs chunk and the command descriptors.
//
// Kept out of the bundle on purpose:
// - CommonJS packages required at run time through createRequire (the Azure SDK, see
//   src/util/node-http.ts): they resolve from node_modules as before.
// - dist/tracking/weave-child.js, a separate process (found by src/tracking/weave.ts).
//
// dist/cli-bundle/meta.json (esbuild's metafile: which sources each chunk holds) lets
// test/cli-conventions.test.ts check what a command loads; it is not shipped.
import { build } from "esbuild";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// The directory sits two levels below the package root, as dist/<folder>/ modules do, so the
// few paths resolved from import.meta.url (../../package.json for the version) stay valid.
const outdir = `${root}dist/cli-bundle`;

// Chunk names carry content hashes: start clean so no stale chunk is shipped.
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ["src/cli.ts"],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // ES-module builds first (jsonc-parser's "main" is a UMD build esbuild cannot follow).
  mainFields: ["module", "main"],
  // Stack traces of an internal error map back to src/ with --enable-source-maps (or
  // BAKEOFF_DEBUG=1, see bin/bakeoff.js); the maps carry their sources, as tsc's do.
  sourcemap: "linked",
  sourcesContent: true,
  metafile: true,
  // Bundled CommonJS dependencies (cli-progress) call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as __bakeoffCreateRequire } from "node:module";\nconst require = __bakeoffCreateRequire(import.meta.url);',
  },
  logLevel: "warning",
});
writeFileSync(`${outdir}/meta.json`, JSON.stringify(result.metafile));

// The maps keep the text of bakeoff's own sources (src/ is not shipped) but not of its
// dependencies', which are installed beside it: that is most of their size (9 MB → ~2 MB).
for (const file of readdirSync(outdir)) {
  if (!file.endsWith(".js.map")) continue;
  const map = JSON.parse(readFileSync(`${outdir}/${file}`, "utf8"));
  map.sourcesContent = map.sources.map((source, i) =>
    source.includes("node_modules/") ? null : (map.sourcesContent?.[i] ?? null),
  );
  writeFileSync(`${outdir}/${file}`, JSON.stringify(map));
}
