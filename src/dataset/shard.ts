/**
 * Shards: a deterministic slice of a run's rows, so one plan can be split over a CI matrix or a
 * Kubernetes Indexed Job and merged back (`bakeoff run --shard i/n`, `bakeoff merge`).
 *
 * A row belongs to shard `1 + (h mod n)`, where `h` is the first 8 bytes (big-endian, unsigned)
 * of SHA-256 over the UTF-8 bytes of `datasetName + "\0" + rowId`. SHA-256 is the same on every
 * machine, Node version and run, and it depends on nothing but the row's identity: not its line,
 * not the other rows, not the models. So every trial and model of a row lands in the same shard,
 * a row keeps its shard when rows are added around it, and shard i of one machine is shard i of
 * any other.
 */
import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";

/** One slice of a run: `index` of `count`, 1-based (as Playwright's `--shard=2/4`). */
export interface Shard {
  /** Which slice, 1..count. */
  index: number;
  /** How many slices the plan is split into, ≥ 1. */
  count: number;
}

/** Largest shard count accepted; far beyond any CI matrix, small enough to catch typos. */
export const MAX_SHARDS = 10_000;

/**
 * Parses `i/n` (`--shard 2/4`).
 * @throws UsageError naming `option` when the text is not `i/n` with 1 ≤ i ≤ n.
 */
export function parseShard(text: string, option = "--shard"): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const why = (reason: string) =>
    new UsageError(`${option} must be i/n with 1 ≤ i ≤ n, e.g. ${option} 2/4 (got "${text}"): ${reason}`);
  if (!m) throw why("not of the form i/n");
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw why("n must be at least 1");
  if (count > MAX_SHARDS) throw why(`n must be at most ${MAX_SHARDS}`);
  if (index < 1) throw why("shards are numbered from 1");
  if (index > count) throw why(`there are only ${count} shards`);
  return { index, count };
}

/** The shard (1..count) a row belongs to; see the module comment for the rule. */
export function shardOf(dataset: string, rowId: string, count: number): number {
  if (count === 1) return 1;
  const digest = createHash("sha256").update(`${dataset}\u0000${rowId}`, "utf8").digest();
  return 1 + Number(digest.readBigUInt64BE(0) % BigInt(count));
}

/** Whether a row is in `shard` (always, without one). */
export function inShard(shard: Shard | undefined, dataset: string, rowId: string): boolean {
  return shard === undefined || shardOf(dataset, rowId, shard.count) === shard.index;
}

/** `2/4`, as typed and as shown in messages. */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
