/**
 * What every report of a shard run says first: its numbers cover one slice of the rows, so no
 * decision is taken from it (gates and compare run on the merged run).
 */
export function shardNote(shard: { index: number; count: number }): string {
  return `Shard ${shard.index}/${shard.count}: this run holds one slice of the rows; gates and compare run on the merged run (bakeoff merge).`;
}
