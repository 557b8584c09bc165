/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`): where a thread's CPU went, by category and by
 * function, optionally split into time windows (phases). Shared by bench/profile.ts (bakeoff vs
 * the bare loop) and bench/startup.ts (`--profile`).
 *
 * Attribution is by **self time**: each sample is charged to the function on top of the stack.
 * Frames without a script (V8 builtins such as `JSON.parse`, `Array.prototype.sort`, native
 * bindings) are charged to their nearest caller that has one, so the cost of a `JSON.parse` shows
 * up under the module that called it. V8's own pseudo-frames keep their buckets: `(program)`
 * (native code outside any JS frame: the parser, the compilers, runtime calls made between
 * frames), `(garbage collector)` (collection on this thread; the helper threads are not sampled)
 * and `(idle)` (waiting in the event loop, not CPU).
 *
 * The CLI is a bundle (dist/cli-bundle/, chunks with source maps, the Azure SDK bundled in):
 * frames in any dist/ file with a `.map` beside it are mapped back to the source they came from,
 * so they are charged to `src/<dir>/<file>.ts` or to the npm package that shipped them.
 *
 * Categories:
 * - `V8: (program)`, `V8: garbage collector`;
 * - `node: <area>`: Node's own JavaScript (`node:` URLs) by area: module loading & bootstrap,
 *   http/net/stream, fs, events/timers/microtasks, worker threads, other (buffer, url, util…);
 * - `npm: <package>`: anything under node_modules/<package>/ (the innermost one);
 * - `bakeoff: src/<path>.ts` (bin/bakeoff.js, and dist/ files without a map, by their own path);
 * - `bundle top level: <chunk> (mostly …)`: bundle code no map entry covers (module top levels,
 *   esbuild's runtime helpers), named after the chunk's main content;
 * - `bench: <file>`: a bench script's own code (bench/bare-loop.mjs: the bare loop itself).
 *
 * {@link groupOf} folds them into a handful of groups for a first look.
 */
import { existsSync, readFileSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("..", import.meta.url));

export interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based. */
  lineNumber: number;
  /** 0-based. */
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The JSON `node --cpu-prof` writes: times in µs of the monotonic clock (`process.hrtime`'s). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
}

/** Where a frame's code came from: a repository-relative path (after source maps) or a `node:` URL. */
interface Origin {
  /** "src/run/runner.ts", "node_modules/ajv/dist/…", "node:internal/…", "bench/bare-loop.mjs"; "" for builtins. */
  file: string;
  /** 1-based, in `file`. */
  line: number;
  /** Set for a bundle position no source map entry covers: see {@link OriginResolver.unmapped}. */
  category?: string;
}

/** Maps frames to their origin, reading each dist/ file's source map once. */
export class OriginResolver {
  private readonly maps = new Map<string, { map: SourceMap; dir: string } | null>();
  private readonly chunkInputs = new Map<string, string>();

  resolve(f: CallFrame): Origin {
    const url = f.url;
    if (url === "" || !url.startsWith("file:")) return { file: url, line: f.lineNumber + 1 };
    const path = fileURLToPath(url);
    const m = this.mapOf(path);
    if (m) {
      // Node 20 answers {} outside the mapped ranges, later versions undefined.
      const e = m.map.findEntry(f.lineNumber, f.columnNumber) as
        { originalSource?: string; originalLine?: number } | undefined;
      if (e?.originalSource) {
        const src = e.originalSource.startsWith("file:")
          ? fileURLToPath(e.originalSource)
          : resolve(m.dir, e.originalSource);
        return { file: repoPath(src), line: (e.originalLine ?? 0) + 1 };
      }
      return { file: repoPath(path), line: f.lineNumber + 1, category: this.unmapped(path) };
    }
    return { file: repoPath(path), line: f.lineNumber + 1 };
  }

  /** The category of an origin: its own, or by its file. */
  categoryOf(o: Origin, functionName = ""): string {
    return o.category ?? categoryOf(o.file, functionName);
  }

  /**
   * A bundle position no map entry covers: a chunk's module function (the top level of every
   * module inlined in it, run once at load: `(anonymous)` at line 1) or esbuild's runtime helpers
   * (`__export`, `__toESM`). Named after the chunk and, from esbuild's metafile (meta.json beside
   * the chunks), the category of the code that makes up most of it, e.g. "bundle top level:
   * chunk-X.js (mostly npm: zod)".
   */
  private unmapped(path: string): string {
    let label = this.chunkInputs.get(path);
    if (label === undefined) {
      let mostly = "";
      try {
        const meta = JSON.parse(readFileSync(join(dirname(path), "meta.json"), "utf8")) as {
          outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
        };
        const out = Object.entries(meta.outputs).find(([k]) => resolve(REPO, k) === path)?.[1];
        const bytes = new Map<string, number>();
        for (const [input, v] of Object.entries(out?.inputs ?? {})) {
          const c = categoryOf(input);
          bytes.set(c, (bytes.get(c) ?? 0) + v.bytesInOutput);
        }
        const top = [...bytes].sort((a, b) => b[1] - a[1])[0];
        // A chunk without inputs is esbuild's runtime (`__commonJS`, `__export`, …). V8 compiles a
        // function lazily on its first call, before the callee has a frame, so compiling each
        // bundled CommonJS module (the Azure SDK) most likely lands on the wrapper that runs it.
        mostly = top
          ? ` (mostly ${top[0]})`
          : " (esbuild runtime; likely incl. compiling the CommonJS modules it runs)";
      } catch {
        // No metafile (not shipped in the package): the chunk's name alone.
      }
      label = `bundle top level: ${basename(path)}${mostly}`;
      this.chunkInputs.set(path, label);
    }
    return label;
  }

  private mapOf(path: string): { map: SourceMap; dir: string } | null {
    let m = this.maps.get(path);
    if (m === undefined) {
      m = null;
      // Only bakeoff's own build output: node_modules' maps would point into sources not shipped.
      if (path.includes(`${sep}dist${sep}`) && !path.includes(`${sep}node_modules${sep}`) && existsSync(`${path}.map`))
        m = {
          map: new SourceMap(JSON.parse(readFileSync(`${path}.map`, "utf8")) as SourceMapPayload),
          dir: dirname(path),
        };
      this.maps.set(path, m);
    }
    return m;
  }
}

/** Inside the repository: relative to it; elsewhere (a node_modules symlinked away): from `node_modules/` on. */
function repoPath(abs: string): string {
  const rel = relative(REPO, abs);
  if (!rel.startsWith("..") && !isAbsolute(rel)) return rel.split(sep).join("/");
  const nm = abs.lastIndexOf(`${sep}node_modules${sep}`);
  return nm >= 0
    ? abs
        .slice(nm + 1)
        .split(sep)
        .join("/")
    : abs;
}

const NODE_AREAS: [RegExp, string][] = [
  [
    /^node:(internal\/(modules|vm|source_map|main|bootstrap|process\/(pre_execution|esm_loader))|vm$|module$)/,
    "node: module loading & bootstrap",
  ],
  [
    /^node:(_http_|https?$|net$|tls$|dns$|stream|internal\/(https?|streams|stream_base_commons|net|dns|tls|js_stream_socket|webstreams))/,
    "node: http/net/stream",
  ],
  [/^node:(fs|internal\/fs)/, "node: fs"],
  [
    /^node:(events$|timers|async_hooks$|internal\/(event_target|timers|async_hooks|process\/(task_queues|promises)))/,
    "node: events/timers/microtasks",
  ],
  [/^node:(worker_threads|internal\/worker)/, "node: worker threads"],
];

/** The category of code at `file` (an {@link Origin} file) running `functionName`. */
export function categoryOf(file: string, functionName = ""): string {
  if (file === "") {
    if (functionName === "(garbage collector)") return "V8: garbage collector";
    if (functionName === "(program)") return "V8: (program)";
    if (functionName === "(idle)" || functionName === "(root)") return functionName;
    return "V8 builtins (no caller)";
  }
  if (file.startsWith("node:"))
    return NODE_AREAS.find(([re]) => re.test(file))?.[1] ?? "node: other (buffer, url, util…)";
  const nm = file.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = file.slice(nm + "node_modules/".length).split("/");
    return `npm: ${parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (/^(src|dist|bin)\//.test(file)) return `bakeoff: ${file}`;
  if (file.startsWith("bench/")) return `bench: ${file}`;
  return `other: ${file}`;
}

/** The coarse group of a category: V8's buckets, Node internals, npm packages, bakeoff's own code… */
export function groupOf(category: string): string {
  if (category.startsWith("V8: ")) return category;
  if (category.startsWith("V8 ")) return "V8: builtins without a caller";
  if (category.startsWith("node: ")) return "Node internals (all areas)";
  if (category.startsWith("npm: ")) return "npm packages (all)";
  if (category.startsWith("bakeoff: ")) return "bakeoff's own code (src/, bin/)";
  if (category.startsWith("bundle top level")) return "bundle top level (module evaluation, esbuild runtime)";
  if (category.startsWith("bench: ")) return "the bench script's own code";
  return "other";
}

/** One function's self time. */
export interface FunctionTime {
  name: string;
  /** "src/run/runner.ts:120", "node:_http_client:310", or "builtin, from <caller's file>". */
  where: string;
  category: string;
  /** Self time per phase, µs. */
  us: number[];
}

export interface ProfileSummary {
  /** Profile start and end, µs of the monotonic clock. */
  startTime: number;
  endTime: number;
  /** Per phase: the span of samples in it, µs (busy + idle). */
  spanUs: number[];
  /** Per phase: idle time, µs (not CPU). */
  idleUs: number[];
  /** Per phase: busy (sampled, non-idle) time, µs. */
  busyUs: number[];
  /** Category → self time per phase, µs (idle excluded). */
  byCategory: Map<string, number[]>;
  /** Function key → its self time. */
  byFunction: Map<string, FunctionTime>;
}

/**
 * Sums a profile's samples by category and function. `splits` (monotonic µs, ascending) cut the
 * profile into `splits.length + 1` phases; a sample belongs to the phase its timestamp falls in.
 * Each sample lasts until the next one (the last until the profile's end), as DevTools counts.
 */
export function summariseProfile(
  p: CpuProfile,
  splits: number[] = [],
  resolver = new OriginResolver(),
): ProfileSummary {
  const phases = splits.length + 1;
  const zero = () => new Array<number>(phases).fill(0);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Per profile node (not per sample): its category and function key, computed once.
  const charged = new Map<number, { category: string; key: string; fn: Omit<FunctionTime, "us"> }>();
  const chargeOf = (id: number) => {
    let c = charged.get(id);
    if (c) return c;
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || "(anonymous)";
    if (frame.url === "" && !name.startsWith("(")) {
      // A builtin: charged to the nearest caller with a script.
      let cur = parent.get(id);
      let caller: Origin | undefined;
      while (cur !== undefined) {
        const f = byId.get(cur)!.callFrame;
        if (f.url !== "") {
          caller = resolver.resolve(f);
          break;
        }
        cur = parent.get(cur);
      }
      const category = caller ? resolver.categoryOf(caller) : categoryOf("", name);
      const where = `builtin, from ${caller?.file ?? "?"}`;
      c = { category, key: `${name}|${where}`, fn: { name, where, category } };
    } else {
      const o = resolver.resolve(frame);
      const category = resolver.categoryOf(o, name);
      const where = o.file === "" ? "" : `${o.file}:${o.line}`;
      c = { category, key: `${name}|${where}`, fn: { name, where, category } };
    }
    charged.set(id, c);
    return c;
  };

  const s: ProfileSummary = {
    startTime: p.startTime,
    endTime: p.endTime,
    spanUs: zero(),
    idleUs: zero(),
    busyUs: zero(),
    byCategory: new Map(),
    byFunction: new Map(),
  };
  let t = p.startTime;
  let phase = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const next = i + 1 < p.samples.length ? t + (p.timeDeltas[i + 1] ?? 0) : p.endTime;
    const dt = Math.max(0, next - t);
    while (phase < splits.length && t >= splits[phase]!) phase++;
    s.spanUs[phase]! += dt;
    const c = chargeOf(p.samples[i]!);
    if (c.category === "(idle)") {
      s.idleUs[phase]! += dt;
      continue;
    }
    s.busyUs[phase]! += dt;
    let cat = s.byCategory.get(c.category);
    if (!cat) s.byCategory.set(c.category, (cat = zero()));
    cat[phase]! += dt;
    let fn = s.byFunction.get(c.key);
    if (!fn) s.byFunction.set(c.key, (fn = { ...c.fn, us: zero() }));
    fn.us[phase]! += dt;
  }
  return s;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * A short text summary of one profile (no phases): busy and idle time, then the largest
 * categories and self-time functions. What `bench/startup.ts --profile` prints.
 */
export function describeProfile(file: string, top = 12): string {
  const s = summariseProfile(readProfile(file));
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(5)} ms`;
  const cats = [...s.byCategory].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, top);
  const fns = [...s.byFunction.values()].sort((a, b) => sum(b.us) - sum(a.us)).slice(0, top);
  return [
    `  sampled ${(sum(s.spanUs) / 1000).toFixed(0)} ms, busy ${(sum(s.busyUs) / 1000).toFixed(0)} ms, idle ${(sum(s.idleUs) / 1000).toFixed(0)} ms (main thread, profiler on; wall-clock ticks, so on a loaded machine busy includes waits for a core); self time by category:`,
    ...cats.map(([k, v]) => `    ${ms(sum(v))}  ${k}`),
    "  top self-time functions:",
    ...fns.map((f) => `    ${ms(sum(f.us))}  ${f.name}  ${f.where}`),
  ].join("\n");
}

// Run directly, it summarises the profiles named on the command line, e.g. those
// `bench/reports.ts --profile` or `bench/weave-overhead.ts --profile` leave in bench-profiles/:
//   npx tsx bench/cpu-profile.ts bench-profiles/*.cpuprofile [--top N]
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  const t = argv.indexOf("--top");
  const top = t >= 0 ? Number(argv[t + 1]) : 12;
  const files = argv.filter((a, i) => a !== "--top" && argv[i - 1] !== "--top");
  if (files.length === 0) throw new Error("usage: npx tsx bench/cpu-profile.ts FILE.cpuprofile... [--top N]");
  for (const f of files) console.log(`${f}:\n${describeProfile(f, top)}\n`);
}
