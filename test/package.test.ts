/**
 * What `npm pack` would publish: the files a user installs with `npm install -g bakeoff-eval`,
 * read from npm's own dry run, and the package.json fields that decide how it installs.
 */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface PackageJson {
  name: string;
  license: string;
  bin: Record<string, string>;
  engines: { node: string };
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

let files: string[] = [];
let pkg: PackageJson;

beforeAll(async () => {
  pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as PackageJson;
  // --ignore-scripts: `npm test` has just built dist/; packing must not rebuild it mid-suite.
  const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout) as [{ name: string; files: { path: string }[] }];
  expect(packed.name).toBe(pkg.name);
  files = packed.files.map((f) => f.path).sort();
}, 60_000);

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}

describe("npm pack contents", () => {
  it("ships the CLI, the library, its types, the schema, README and LICENSE", () => {
    for (const f of [
      "bin/bakeoff.js",
      "dist/cli-bundle/cli.js",
      // bin/bakeoff.js loads it before the CLI (the young generation's ceiling).
      "dist/util/young-generation.js",
      "dist/cli.js",
      "dist/index.js",
      "dist/index.d.ts",
      "eval.config.schema.json",
      "README.md",
      "LICENSE",
      "package.json",
    ]) {
      expect(files, f).toContain(f);
    }
  });

  it("ships no build state, tests, benchmarks, sources or local data", () => {
    const unwanted = files.filter(
      (f) =>
        f.endsWith(".tsbuildinfo") ||
        /(^|\/)(test|tests|bench|results|node_modules|\.ci|\.github)\//.test(f) ||
        /\.test\.[cm]?[jt]s$/.test(f) ||
        (f.endsWith(".ts") && !f.endsWith(".d.ts")),
    );
    expect(unwanted).toEqual([]);
    expect(
      files.every(
        (f) =>
          /^(bin|dist)\//.test(f) || ["README.md", "LICENSE", "package.json", "eval.config.schema.json"].includes(f),
      ),
    ).toBe(true);
  });

  it("source maps carry their sources, since src/ is not shipped", async () => {
    const maps = files.filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(10);
    for (const f of maps) {
      const map = JSON.parse(await readFile(join(ROOT, f), "utf8")) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect(map.sourcesContent?.length, f).toBe(map.sources.length);
      // The CLI bundle's maps also list dependencies, which are installed beside bakeoff.
      const own = map.sources.flatMap((s, i) => (s.includes("node_modules/") ? [] : [map.sourcesContent![i]]));
      expect(
        own.every((s) => typeof s === "string" && s.length > 0),
        f,
      ).toBe(true);
    }
  });

  it("ships no stale output: every compiled module has its source", async () => {
    const stale = [];
    for (const path of await walk(join(ROOT, "dist"))) {
      // The CLI bundle's chunks have no source of their own; scripts/build-cli.mjs rebuilds it from scratch.
      if (!path.endsWith(".js") || relative(ROOT, path).startsWith(join("dist", "cli-bundle"))) continue;
      const rel = relative(join(ROOT, "dist"), path).replace(/\.js$/, ".ts");
      try {
        await readFile(join(ROOT, "src", rel));
      } catch {
        stale.push(rel);
      }
    }
    expect(stale).toEqual([]);
  });
});

describe("package.json", () => {
  it("is installable under its own name, with the bakeoff command", async () => {
    // "bakeoff" on the registry is an unrelated package (an exponential backoff function).
    expect(pkg.name).not.toBe("bakeoff");
    expect(pkg.bin).toEqual({ bakeoff: "./bin/bakeoff.js" });
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(`npm install -g ${pkg.name}`);
    expect(readme).toContain(`npx ${pkg.name}`);
    expect(readme).toContain(`from "${pkg.name}"`);
    expect(readme).not.toContain(`from "bakeoff"`);
  });

  it("names the license it ships and the Node versions the dependencies support", async () => {
    expect(pkg.license).toBe("MIT");
    expect(await readFile(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n/);
    // @azure/core-auth 1.11 requires Node 22; Node 20 left maintenance in April 2026.
    expect(pkg.engines.node).toBe(">=22");
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    expect(readme).toContain("Node 22");
    expect(readme).not.toMatch(/Node 20\.19/);
  });

  it("depends only on packages the code imports", async () => {
    const sources = (await walk(join(ROOT, "src"))).filter((f) => f.endsWith(".ts"));
    const text = (await Promise.all(sources.map((f) => readFile(f, "utf8")))).join("\n");
    // @azure/core-sse: the streaming provider (in progress on another branch) parses SSE with it.
    const pending = new Set(["@azure/core-sse"]);
    const unused = Object.keys(pkg.dependencies).filter(
      (dep) =>
        !pending.has(dep) &&
        !text.includes(`from "${dep}"`) &&
        !text.includes(`import("${dep}`) &&
        !text.includes(`from "${dep}/`),
    );
    expect(unused).toEqual([]);
  });

  it("tsx is an optional peer: only TypeScript custom scorers need it", () => {
    expect(pkg.peerDependencies?.tsx).toBeDefined();
    expect(pkg.peerDependenciesMeta?.tsx?.optional).toBe(true);
    expect(pkg.dependencies.tsx).toBeUndefined();
  });
});
