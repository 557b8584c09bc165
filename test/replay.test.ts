/**
 * Record and replay through the CLI: a --replay run makes zero HTTP requests (counted at the
 * emulator, /info included) and reproduces the report of the recording run byte for byte,
 * apart from run ids and timestamps. A replay miss fails closed.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { runFixture, type RunFixture } from "./helpers/run-fixture.js";
import { tempDir } from "./helpers/tmp.js";

let fx: RunFixture | undefined;
afterEach(async () => {
  await fx?.emulator.close();
  fx = undefined;
});

/** Drops what legitimately differs between two runs of the same work: ids and clock times. */
function normalise(text: string, runId: string): string {
  return text
    .replaceAll(runId, "<run>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>")
    .replace(/\(\d+(\.\d+)?\s*(ms|s|min|h)\)/g, "(<duration>)");
}

describe("record and replay", () => {
  it("--replay makes zero HTTP requests and reproduces the report", async () => {
    const dir = await tempDir();
    fx = await runFixture(dir, { rows: 30 });
    const cacheDir = join(dir, "cache");
    const rec = await runCli(
      ["run", "--config", fx.config, "--no-weave", "--run-id", "recorded-run-1", "--cache", cacheDir],
      { cwd: dir, env: fx.env },
    );
    expect(rec.code).toBe(0);
    expect(rec.stderr).toMatch(/0 hits, 60 misses, 60 stored/);
    const before = fx.emulator.stats();
    expect(before.byModel.small!.completions + before.byModel.large!.completions).toBe(60);

    // No keys in the environment: a replay needs none.
    const rep = await runCli(
      ["run", "--config", fx.config, "--no-weave", "--run-id", "replayed-run-2", "--replay", "--cache", cacheDir],
      { cwd: dir },
    );
    expect(rep.stderr).not.toMatch(/internal error/);
    expect(rep.code).toBe(0);
    expect(rep.stderr).toMatch(/60 hits, 0 misses, 0 stored/);
    expect(fx.emulator.stats().requests).toBe(before.requests); // zero HTTP requests, /info included

    const read = async (run: string, file: string) =>
      normalise(await readFile(join(fx!.results, run, file), "utf8"), run);
    // The replay is marked as such: every answer came from the cache, so nothing was paid.
    const replayed = JSON.parse(await read("replayed-run-2", "report.json"));
    for (const m of replayed.models) expect(m.cached.results, m.name).toBe(m.results);
    expect(await read("replayed-run-2", "report.md")).toMatch(
      /\| Cached \(not paid\) \| 30 \(100\.0%\) \| 30 \(100\.0%\) \|/,
    );
    const recorded = JSON.parse(await read("recorded-run-1", "report.json"));
    for (const m of recorded.models) expect(m.cached.results, m.name).toBe(0);
    // Apart from those markers the reports are the same.
    const unmark = (t: string) =>
      t
        .replace(/\n\s*"cached": \d+,?|"cached": \{[^}]*\}/g, "")
        .replace(/<tr><th scope="row">Cached[^\n]*?<\/tr>/g, "")
        .replace(/\n\| Cached[^\n]*/g, "")
        .replace(/,(\s*[}\]])/g, "$1");
    expect(unmark(await read("replayed-run-2", "report.md"))).toBe(unmark(await read("recorded-run-1", "report.md")));
    expect(unmark(await read("replayed-run-2", "report.json"))).toBe(
      unmark(await read("recorded-run-1", "report.json")),
    );
    // The HTML also charts the trend over earlier runs, which the replay (a later run) has more of.
    const noTrend = (html: string) =>
      unmark(html.replace(/<section id="trend">.*?<\/section>\n?/s, "").replace(/ · <a href="#trend">Trend<\/a>/, ""));
    expect(noTrend(await read("replayed-run-2", "report.html"))).toBe(
      noTrend(await read("recorded-run-1", "report.html")),
    );
    // Per-row files follow the journal, which is in completion order: same lines, any order.
    const lines = (t: string) => t.split("\n").sort();
    for (const file of ["predictions.csv", "junit.xml"]) {
      expect(lines(await read("replayed-run-2", file)), file).toEqual(lines(await read("recorded-run-1", file)));
    }
    const records = (await readFile(join(fx.results, "replayed-run-2", "predictions.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { output: { cached?: boolean } });
    expect(records.every((r) => r.output.cached === true)).toBe(true);
    // Cache files never hold keys.
    for (const shard of await readdir(join(cacheDir, "v1"))) {
      for (const f of await readdir(join(cacheDir, "v1", shard))) {
        const text = await readFile(join(cacheDir, "v1", shard, f), "utf8");
        for (const key of Object.values(fx.env)) expect(text).not.toContain(key);
      }
    }
  });

  it("a replay miss fails closed (exit 2) naming the row, and sends nothing", async () => {
    const dir = await tempDir();
    fx = await runFixture(dir, { rows: 4 });
    const cacheDir = join(dir, "cache");
    expect(
      (
        await runCli(["run", "--config", fx.config, "--no-weave", "--limit", "2", "--cache", cacheDir], {
          cwd: dir,
          env: fx.env,
        })
      ).code,
    ).toBe(0);
    const before = fx.emulator.stats().requests;
    const rep = await runCli(["run", "--config", fx.config, "--no-weave", "--replay", "--cache", cacheDir], {
      cwd: dir,
    });
    expect(rep.code).toBe(2);
    expect(rep.stderr).toMatch(/q2|q3/);
    expect(rep.stderr).not.toMatch(/\n\s+at /);
    expect(fx.emulator.stats().requests).toBe(before);
  });
});
