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
// Packages that src/ loads with `nodeRequire` (createRequire; the Azure SDK, see
// src/util/node-http.ts) are bundled too, as the CommonJS builds they are there: the plugin below
// shows esbuild those calls as plain `require(...)`, which it follows (package "require"
// conditions, built-ins left to Node's own require through the banner). Loading the SDK's ~80
// files one by one through the CommonJS loader cost ~230 ms of CPU per run on Node 22; bundled,
// ~100 ms. Behaviour is the same: the same CommonJS code, and `node:http` still reached through
// require (not import, which loads undici on Node 22+).
//
// Kept out of the bundle, loaded from node_modules as before:
// - tsx (an optional peer, found at run time for TypeScript scorers; it starts esbuild's binary
//   and registers loader hooks by file path) and esbuild;
// - open, which runs the xdg-open script shipped in its own folder;
// - @azure/identity (and MSAL under it), loaded only for Entra ID sign-in;
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
/** `nodeRequire("x")` → `require("x")` in bakeoff's sources, so esbuild bundles what they require. */
const followNodeRequire = {
  name: "follow-node-require",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (!text.includes("nodeRequire(")) return undefined;
      return { contents: text.replace(/\bnodeRequire\(/g, "require("), loader: "ts" };
    });
  },
};

/**
 * yargs finds its translations (`locales/`, for LANG=de_DE and others) and its `mainFilename`
 * from its own file's location, which in the bundle would be dist/cli-bundle/: messages would
 * silently fall back to English. The shim is shown the location of the installed yargs instead
 * (a dependency, so always beside bakeoff), which gives both the same values as unbundled.
 */
const YARGS_SHIM = /[\\/]node_modules[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;
const YARGS_DIRNAME = "const __dirname = fileURLToPath(import.meta.url);";
const yargsHome = {
  name: "yargs-home",
  setup(b) {
    b.onLoad({ filter: YARGS_SHIM }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (!text.includes(YARGS_DIRNAME))
        throw new Error(`${args.path}: yargs changed how it finds its locales; update scripts/build-cli.mjs`);
      const installed =
        "const __dirname = join(dirname(createRequire(import.meta.url).resolve('yargs/package.json')), 'lib', 'platform-shims', 'esm.mjs');";
      return { contents: text.replace(YARGS_DIRNAME, installed), loader: "js" };
    });
  },
};

/**
 * string-width (three copies, under cliui, wrap-ansi and yargs) builds an `Intl.Segmenter` when
 * its module is evaluated, and yargs loads it for every command, though only help text is ever
 * measured with it. The first Intl object loads ICU's data: ~45 ms of CPU on Node 20, ~50 ms on
 * Node 22 (`new Intl.Segmenter()` in a fresh process), before `bakeoff run` sends its first call.
 * The plugin builds the segmenter on first use instead; what it segments is unchanged. yargs's
 * own copy also compiles `/^\p{RGI_Emoji}$/v` when evaluated, which V8 expands from ICU's emoji
 * sequences: 32–36 ms of CPU on Node 22 (`new RegExp(...)` in a fresh process). It is used only
 * through `.test()` (not global, so stateless), and is built on the first call instead.
 */
const STRING_WIDTH = /[\\/]node_modules[\\/](?:.+[\\/])?string-width[\\/]index\.js$/;
const EAGER_SEGMENTER = "const segmenter = new Intl.Segmenter();";
const EAGER_RGI_EMOJI = "const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;";
const lazySegmenter = {
  name: "lazy-segmenter",
  setup(b) {
    b.onLoad({ filter: STRING_WIDTH }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (!text.includes("Intl.Segmenter")) return undefined; // older versions (cli-progress's) use none
      if (!text.includes(EAGER_SEGMENTER))
        throw new Error(`${args.path}: string-width changed how it makes its segmenter; update scripts/build-cli.mjs`);
      const lazy = "let made; const segmenter = { segment: (s) => (made ??= new Intl.Segmenter()).segment(s) };";
      let contents = text.replace(EAGER_SEGMENTER, lazy);
      if (contents.includes(EAGER_RGI_EMOJI)) {
        if ((contents.match(/rgiEmojiRegex/g) ?? []).length !== 2 || !contents.includes("rgiEmojiRegex.test("))
          throw new Error(`${args.path}: string-width uses rgiEmojiRegex differently; update scripts/build-cli.mjs`);
        contents = contents.replace(
          EAGER_RGI_EMOJI,
          "let rgiMade; const rgiEmojiRegex = { test: (s) => (rgiMade ??= /^\\p{RGI_Emoji}$/v).test(s) };",
        );
      }
      return { contents, loader: "js" };
    });
  },
};

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
  plugins: [followNodeRequire, yargsHome, lazySegmenter],
  external: ["tsx", "tsx/*", "esbuild", "open", "@azure/identity"],
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
