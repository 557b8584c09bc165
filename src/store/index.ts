/**
 * Run storage: everything that reads or writes a run directory or the output directory's run
 * index goes through this module. Runs, reports, compare, history, Weave sync (and later `merge`
 * and sharded batches) use only these functions, so the on-disk layout has one owner.
 *
 * - journal: `predictions.jsonl`, append-only, the source of truth ({@link JournalWriter},
 *   {@link readJournal}, {@link runRecords}, {@link completedKeys}).
 * - manifest: `run.json` ({@link readManifest}, {@link writeManifest}; atomic writes).
 * - run directory: ids, locating a run, creating one ({@link createRunDir}) or locking an existing
 *   one for a command ({@link lockRunDir}).
 * - lock: `run.lock`, one writer per run ({@link acquireLock}).
 * - run index: `<outputDir>/index.jsonl`, one entry per run ({@link putRunIndexEntries}).
 * - merge: the shard runs of one plan into one run ({@link mergeShardRuns}).
 */
export {
  JournalWriter,
  PREDICTIONS_FILE,
  completedKeys,
  KeySet,
  KeySetBuilder,
  latestByKey,
  readJournal,
  runRecords,
  type ReadJournalOptions,
} from "./journal.js";
export {
  acquireLock,
  LOCK_FILE,
  LockedError,
  readLock,
  type AcquireOptions,
  type Lock,
  type LockHolder,
} from "./lock.js";
export {
  MANIFEST_FILE,
  readManifest,
  writeManifest,
  type DatasetManifest,
  type ModelManifest,
  type RunManifest,
  type RunStatus,
} from "./manifest.js";
export { checkShardRuns, mergeShardRuns, type MergeOptions, type MergeResult, type ShardRun } from "./merge.js";
export { checkRunId, createRunDir, locateRun, lockRunDir, newRunId, runDirFor } from "./run-dir.js";
export {
  datasetHash,
  listRuns,
  putRunIndexEntries,
  readRunIndex,
  RUN_INDEX_FILE,
  type IndexedModel,
  type RunIndexEntry,
} from "./run-index.js";
