/**
 * The scorer bookkeeping behind a report's column layout, shared by the statistics
 * (RunStatistics.add) and the CSV/JUnit writer thread (ScorerLayoutTracker), which must agree on
 * it exactly: scorers in the order they were first met, and which scorers each dataset used.
 */

/**
 * Notes the scorers of one record of `dataset`: appends new names to `seenScorers` and to the
 * dataset's set in `datasetScorers`. Returns how many of those lists changed (0 when the layout
 * is as it was), for the caller's layout version.
 */
export function noteScorers(
  seenScorers: string[],
  datasetScorers: Map<string, Set<string>>,
  dataset: string,
  scores: Readonly<Record<string, unknown>>,
): number {
  let changes = 0;
  let dsScorers = datasetScorers.get(dataset);
  for (const name in scores) {
    if (!seenScorers.includes(name)) {
      seenScorers.push(name);
      changes++;
    }
    if (dsScorers === undefined) datasetScorers.set(dataset, (dsScorers = new Set()));
    if (!dsScorers.has(name)) {
      dsScorers.add(name);
      changes++;
    }
  }
  return changes;
}
