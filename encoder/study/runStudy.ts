// Runs a comparison study run by run (each resumable; a finished run is read back from its folder or
// from the records committed with the page, not retrained) and rewrites the results page and its
// records after every run, so a long study shows its progress.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../config.js';
import type { RetrievalMetrics } from '../eval/retrieval.js';
import { withRunEncoder } from '../train/runEngine.js';
import { restoreRun } from '../train/runWithCheckpoint.js';
import { evaluate, runWallSeconds, train } from '../train/trainer.js';
import { type RunRecord, type RunSettings, writeResultsPage } from './resultsPage.js';
import type { Study, StudyRun } from './studyRuns.js';

/** A finished run's record in its own folder. */
const resultFileOf = (run: StudyRun) => path.join(run.config.outputDir, 'study-result.json');

/** What a run's figures depend on; paths are left out, so a moved checkout still reads its runs. */
function settingsOf(run: StudyRun): RunSettings {
  const { protocol, model, loss, training, dataset } = run.config;
  return { format: dataset.format, protocol, model, loss, training };
}

/** JSON with object keys sorted, so the order of keys in a config does not count as a change. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The top-level settings that differ. */
function changedSettings(saved: RunSettings, current: RunSettings): string[] {
  return (Object.keys(current) as (keyof RunSettings)[]).filter(
    (key) => canonicalJson(saved[key]) !== canonicalJson(current[key]),
  );
}

/** A records file: the one committed with the results page (see Study.recordsFile) or one it borrows from. */
interface CommittedRecords {
  file: string;
  records: RunRecord[];
  /** How to make the study train one of these runs again. */
  remedy: string;
}

/** The records of a file; a missing file has none where `optional` (the page's own, before its first run). */
async function readRecordsFile(file: string, remedy: string, optional: boolean): Promise<CommittedRecords> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (optional && error.code === 'ENOENT') return undefined;
    throw new ConfigError(`${file}: cannot read run records (${error.code ?? error.message})`);
  });
  if (text === undefined) return { file, records: [], remedy };
  let records: unknown;
  try {
    records = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not JSON (${(error as Error).message}); delete it to train every run again`);
  }
  if (!Array.isArray(records)) throw new ConfigError(`${file}: expected an array of run records`);
  return { file, records: records as RunRecord[], remedy };
}

/** The page's own records, then those of `recordsFrom` in their order. */
async function readCommittedRecords(study: Study): Promise<CommittedRecords[]> {
  const own = await readRecordsFile(study.recordsFile, `delete its record from ${study.recordsFile}`, true);
  const borrowed = await Promise.all(
    study.borrowedRecordsFiles.map((file) =>
      readRecordsFile(file, `take ${path.basename(file)} out of recordsFrom in ${study.file}`, false),
    ),
  );
  return [own, ...borrowed];
}

/** A finished run's record and where it was found. */
interface SavedRecord {
  record: RunRecord;
  file: string;
  /** How to make the study train the run again. */
  remedy: string;
  /** Whether the run's checkpoints are at hand (a record from a records file has none). */
  hasCheckpoints: boolean;
}

/** The run's own record in its folder, else its first entry in the records files. */
async function savedRecord(run: StudyRun, committed: CommittedRecords[]): Promise<SavedRecord | undefined> {
  const file = resultFileOf(run);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text) {
    const remedy = `move ${run.config.outputDir} away to train it again`;
    return { record: JSON.parse(text) as RunRecord, file, remedy, hasCheckpoints: true };
  }
  for (const source of committed) {
    const record = source.records.find((r) => r.id === run.id && r.protocol === run.protocol && r.bits === run.bits);
    if (record)
      return { record, file: source.file, remedy: `${source.remedy} to train it again`, hasCheckpoints: false };
  }
  return undefined;
}

/** What the study has changed since the record's run; records written before settings were kept cannot be checked. */
function settingsChangedSince(record: RunRecord, run: StudyRun): string[] {
  return record.settings ? changedSettings(record.settings, settingsOf(run)) : [];
}

async function runOnce(run: StudyRun, saved: SavedRecord | undefined, log: (line: string) => void): Promise<RunRecord> {
  if (saved) {
    const { record, file } = saved;
    const changed = settingsChangedSince(record, run);
    if (changed.length > 0) {
      throw new ConfigError(
        `${file}: run ${run.config.name} finished under other settings (${changed.join(', ')} changed in the study); ` +
          saved.remedy,
      );
    }
    log(`${run.config.name}: finished earlier, read from ${file}`);
    return record.mapTieAveraged === undefined && saved.hasCheckpoints ? reevaluate(run, record, file, log) : record;
  }
  log(`${run.config.name}: training`);
  const result = await train(run.config, { resume: true });
  const speeds = result.state.history.map((h) => h.imagesPerSecond);
  const record: RunRecord = {
    id: run.id,
    label: run.label,
    ...(run.change ? { change: run.change } : {}),
    protocol: run.protocol,
    bits: run.bits,
    ...metricsOf(result.metrics),
    parameters: result.parameters,
    imagesPerSecond: speeds.reduce((a, b) => a + b, 0) / Math.max(speeds.length, 1),
    wallSeconds: runWallSeconds(result),
    epochs: result.state.epoch,
    selectedEpoch: result.state.bestEpoch,
    backend: result.backend,
    settings: settingsOf(run),
  };
  await writeRecord(resultFileOf(run), record);
  return record;
}

function metricsOf(metrics: RetrievalMetrics) {
  const { map, mapTieAveraged, topK, precisionWithinRadius2, curve } = metrics;
  return {
    map,
    mapTieAveraged,
    topK,
    precisionWithinRadius2,
    curve: { precision: curve.precision, recall: curve.recall },
  };
}

/**
 * A record from before the tie-averaged mAP: its selected checkpoint is evaluated again (no
 * training) and the record completed, so old and new runs are compared on the same metrics.
 */
async function reevaluate(run: StudyRun, record: RunRecord, file: string, log: (line: string) => void) {
  log(`${run.config.name}: evaluating the selected checkpoint again for the tie-averaged mAP`);
  const { run: restored } = await restoreRun(run.config);
  const metrics = await withRunEncoder(restored, run.config, (encoder) => evaluate(restored, run.config, encoder));
  restored.model.net.dispose();
  if (Math.abs(metrics.map - record.map) > 1e-9) {
    log(`${run.config.name}: mAP re-evaluated as ${metrics.map}, recorded ${record.map}; keeping the new figures`);
  }
  const completed = { ...record, ...metricsOf(metrics) };
  await writeRecord(file, completed);
  return completed;
}

async function writeRecord(file: string, record: RunRecord): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(record));
  await rename(`${file}.tmp`, file);
}

export async function runStudy(study: Study, log: (line: string) => void = console.error): Promise<RunRecord[]> {
  const committed = await readCommittedRecords(study);
  // Runs finished earlier stay on the page while the study works through the runs before them, so a
  // restarted study never writes a page (or records file) with fewer runs than it had.
  const saved = new Map<StudyRun, SavedRecord | undefined>();
  const finished = new Map<StudyRun, RunRecord>();
  for (const run of study.runs) {
    const found = await savedRecord(run, committed);
    saved.set(run, found);
    if (found && settingsChangedSince(found.record, run).length === 0) finished.set(run, found.record);
  }
  const inStudyOrder = () => study.runs.flatMap((run) => finished.get(run) ?? []);
  for (const run of study.runs) {
    finished.set(run, await runOnce(run, saved.get(run), log));
    await writeResultsPage(study, inStudyOrder());
  }
  log(`results: ${study.resultsFile}`);
  return inStudyOrder();
}
