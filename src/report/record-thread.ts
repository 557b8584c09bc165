/**
 * The main thread's side of src/report/record-worker.ts: starts the worker that writes
 * predictions.csv and junit.xml of a large report, hands it the final layout and turns its
 * errors back into errors of this thread.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { FinishedLayout, SegmentFiles } from "./record-files.js";
import type { FromRecordWorker, RecordWorkerData, SerializedError, ToRecordWorker } from "./record-worker.js";

/**
 * Where the worker's module is: beside this one (tsc's dist/report/), the TypeScript source
 * beside it (tsx, vitest: see {@link typescriptWorker}), or, from the CLI bundle in dist/cli-bundle/
 * which does not contain it, tsc's copy in dist/report/ (the same pattern as the Weave child in
 * src/tracking/weave.ts). Undefined when none exists.
 */
export function recordWorkerFile(): { url: URL; typescript?: true } | undefined {
  const js = new URL("./record-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js };
  const ts = new URL("./record-worker.ts", import.meta.url);
  if (existsSync(fileURLToPath(ts))) return { url: ts, typescript: true };
  const dist = new URL("../../dist/report/record-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(dist))) return { url: dist };
  return undefined;
}

/**
 * A TypeScript worker (tests, tsx) is started through a small script that registers tsx's
 * loader first: Node 20 does not apply `--import tsx` hooks to a worker's entry module, and
 * vitest's transform does not reach other threads. Without tsx this throws, and the report
 * runs on one thread.
 */
function typescriptWorker(url: URL, data: RecordWorkerData): Worker {
  // tsx's ES-module API (its CommonJS build cannot be imported from a worker's eval script).
  const pkgPath = createRequire(import.meta.url).resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports["./esm/api"]!.import.default)).href;
  const code =
    `import(${JSON.stringify(api)}).then((m) => { (m.register ?? m.default.register)(); ` +
    `return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true, workerData: data, execArgv: [] });
}

/** A started record worker (see the module comment of record-worker.ts). */
export class RecordWorker {
  private result: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.result = new Promise<void>((resolve, reject) => {
      worker.on("message", (m: FromRecordWorker) => {
        if (m.type === "done") resolve();
        else if (m.type === "error") reject(deserializeError(m.error));
      });
      worker.on("error", reject);
      worker.on("exit", (code) =>
        reject(new Error(`the report's writer thread exited (code ${code}) before finishing`)),
      );
    });
    this.result.catch(() => undefined); // observed in finish() or abort()
  }

  /**
   * Starts the worker and waits until its module has loaded; undefined when it cannot start
   * (no module file, or one this Node cannot load): the caller then writes on its own thread.
   */
  static async start(data: RecordWorkerData): Promise<RecordWorker | undefined> {
    const file = recordWorkerFile();
    if (file === undefined) return undefined;
    let worker: Worker;
    try {
      worker = file.typescript ? typescriptWorker(file.url, data) : new Worker(file.url, { workerData: data });
    } catch {
      return undefined;
    }
    const ready = await new Promise<boolean>((resolve) => {
      worker.once("message", (m: FromRecordWorker) => resolve(m.type === "ready"));
      worker.once("error", () => resolve(false));
      worker.once("exit", () => resolve(false));
    });
    if (!ready) {
      await worker.terminate();
      return undefined;
    }
    return new RecordWorker(worker);
  }

  /**
   * Hands over the final layout and the main thread's share of the records (`tail`, the segment
   * files of the journal from the worker's `end` on) and waits for both files at their temp
   * paths; rejects with the worker's error.
   */
  async finish(final: FinishedLayout, tail: SegmentFiles[] = []): Promise<void> {
    this.worker.postMessage({ type: "finish", final, tail } satisfies ToRecordWorker);
    try {
      await this.result;
    } finally {
      await this.exited();
    }
  }

  /** Stops the worker (it removes its temp files) and waits for it to end. */
  async abort(): Promise<void> {
    this.worker.postMessage({ type: "abort" } satisfies ToRecordWorker);
    await this.result.catch(() => undefined);
    await this.exited();
  }

  private async exited(): Promise<void> {
    if (this.worker.threadId === -1) return; // already gone
    await new Promise<void>((resolve) => {
      this.worker.once("exit", () => resolve());
      // The worker closes its port after answering; if it lingers, end it.
      setTimeout(() => void this.worker.terminate(), 5000).unref();
    });
  }
}

/** The worker's error as an Error of this thread: same message, name, code, path, stack. */
function deserializeError(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack !== undefined) err.stack = e.stack;
  Object.assign(err, e.props);
  return err;
}
