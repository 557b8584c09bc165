/**
 * Gates that fail closed, through `bakeoff run` against the built-in emulator (faults configured
 * in the config's `emulator` block): an outage fails `regression` and `critical`, an unrelated
 * baseline exits 2, and `--baseline latest` means the latest comparable run.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const ROWS = 40;

async function setup(): Promise<{
  dir: string;
  write: (name: string, over?: Record<string, unknown>, faults?: unknown[]) => Promise<string>;
}> {
  const dir = await tempDir();
  await writeFile(
    join(dir, "sums.jsonl"),
    Array.from({ length: ROWS }, (_, i) =>
      JSON.stringify({
        id: `q${i}`,
        prompt: `What is ${i} + ${i * 3}?`,
        expected: String(i * 4),
        tags: i % 10 === 0 ? "critical" : "",
      }),
    ).join("\n") + "\n",
  );
  await writeFile(
    join(dir, "other.jsonl"),
    Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ id: `o${i}`, prompt: `What is ${i} + 1?`, expected: String(i + 1) }),
    ).join("\n") + "\n",
  );
  const write = async (name: string, over: Record<string, unknown> = {}, faults: unknown[] = []) => {
    const file = join(dir, `${name}.json`);
    await writeFile(
      file,
      JSON.stringify({
        outputDir: "results",
        concurrency: 8,
        datasets: [{ path: "sums.jsonl", scorers: [{ type: "numeric" }] }],
        models: [{ name: "m", endpoint: "emulator://m" }],
        retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 },
        emulator: { models: { m: { accuracy: 1, latency: { medianMs: 1, p95Ms: 2 }, faults } } },
        weave: { enabled: false },
        ...over,
      }),
    );
    return file;
  };
  return { dir, write };
}

describe("gates fail closed", () => {
  it("a total outage fails regression and critical (exit 1); a partial one fails regression", async () => {
    const { dir, write } = await setup();
    const good = await write("good");
    expect((await runCli(["run", "--config", good, "--run-id", "base", "--progress", "off"], { cwd: dir })).code).toBe(
      0,
    );

    const down = await write("down", {}, [{ kind: "server_error", rate: 1 }]);
    const out = await runCli(
      [
        "run",
        "--config",
        down,
        "--run-id",
        "down",
        "--progress",
        "off",
        "--baseline",
        "base",
        "--fail-on",
        "regression",
        "--fail-on",
        "critical",
      ],
      { cwd: dir },
    );
    expect(out.stderr).not.toMatch(/internal error/);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(
      /Gate regression: FAIL\n\s+m numeric: -100\.0 points \(p < 0\.001, n = 40, 40 failed calls counted as failures\)/,
    );
    expect(out.stdout).toMatch(/Gate critical: FAIL\n\s+m numeric: critical row sums\/q0 newly fails/);
    expect(out.stdout).toContain(
      "Verdict: sums · numeric: no model can be recommended: m failed 100% of calls (ceiling 5%).",
    );
    const json = JSON.parse(await readFile(join(dir, "results", "down", "compare.json"), "utf8"));
    expect(json.changes[0]).toMatchObject({ n: 40, candidateErrors: 40, diff: -1, passToFail: 40 });

    const partial = await write("partial", {}, [{ kind: "server_error", rate: 0.3 }]);
    const p = await runCli(
      [
        "run",
        "--config",
        partial,
        "--run-id",
        "partial",
        "--progress",
        "off",
        "--baseline",
        "base",
        "--fail-on",
        "regression",
      ],
      { cwd: dir },
    );
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(
      /Gate regression: FAIL\n\s+m numeric: -\d+\.\d points \(p < 0\.001, n = 40, \d+ failed calls counted as failures\)/,
    );
  }, 60_000);

  it("an unrelated baseline exits 2 (not comparable); --baseline latest skips ad-hoc runs, and says so when none fits", async () => {
    const { dir, write } = await setup();
    const good = await write("good");
    // Nothing to compare with yet: exit 2, saying why.
    const none = await runCli(
      [
        "run",
        "--config",
        good,
        "--run-id",
        "first",
        "--progress",
        "off",
        "--baseline",
        "latest",
        "--fail-on",
        "regression",
      ],
      { cwd: dir },
    );
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--baseline latest: no earlier run is comparable with first/);

    // An ad-hoc run on another dataset, then a smoke test with --limit: neither is a baseline for the nightly.
    const other = await write("other", { datasets: [{ path: "other.jsonl", scorers: [{ type: "numeric" }] }] });
    expect(
      (await runCli(["run", "--config", other, "--run-id", "adhoc", "--progress", "off"], { cwd: dir })).code,
    ).toBe(0);
    expect(
      (await runCli(["run", "--config", good, "--run-id", "smoke", "--progress", "off", "--limit", "5"], { cwd: dir }))
        .code,
    ).toBe(0);
    const nightly = await runCli(
      [
        "run",
        "--config",
        good,
        "--run-id",
        "nightly",
        "--progress",
        "off",
        "--baseline",
        "latest",
        "--fail-on",
        "regression>2",
      ],
      { cwd: dir },
    );
    expect(nightly.code).toBe(0);
    expect(nightly.stdout).toMatch(/Compare first → nightly/);
    // With 40 rows a 2-point drop is far below what the gate can detect: compare.md says so.
    expect(nightly.stderr).toMatch(
      /warning: m numeric: at n = 40 this gate cannot reliably detect a 2-point drop \(80% power only from ≈ \d+\.\d points\)/,
    );
    const md = await readFile(join(dir, "results", "nightly", "compare.md"), "utf8");
    expect(md).toMatch(/### Gate power/);
    expect(md).toMatch(/`regression>2` m numeric: n = 40, detectable drop ≈ \d+\.\d points — \*\*warning:\*\*/);

    // Naming the unrelated run explicitly: 0 of its rows match, so the gates refuse to decide.
    const unrelated = await runCli(
      [
        "run",
        "--config",
        good,
        "--run-id",
        "vs-adhoc",
        "--progress",
        "off",
        "--baseline",
        "adhoc",
        "--fail-on",
        "regression",
        "--fail-on",
        "critical",
      ],
      { cwd: dir },
    );
    expect(unrelated.code).toBe(2);
    expect(unrelated.stdout).toMatch(/Gate regression: NOT COMPARABLE/);
    expect(unrelated.stdout).toMatch(/Gate critical: NOT COMPARABLE/);
    expect(unrelated.stderr).toMatch(
      /baseline not comparable: "m": 0 of the baseline's 10 rows can be compared \(0\.0%; at least 90% needed\)/,
    );
    expect(await readFile(join(dir, "results", "vs-adhoc", "compare.md"), "utf8")).toMatch(
      /## Baseline not comparable/,
    );
  }, 60_000);
});
