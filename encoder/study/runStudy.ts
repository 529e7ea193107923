// Runs a comparison study run by run (each resumable; a finished run is read back from its folder or
// from the records committed with the page, not retrained) and rewrites the results page and its
// records after every run, so a long study shows its progress.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { RunRecord, RunSettings } from '../../schemas/studyRecord.js';
import { ConfigError, validate } from '../config.js';
import type { RetrievalMetrics } from '../eval/retrieval.js';
import { withRunEncoder } from '../train/runEngine.js';
import { restoreRun } from '../train/runWithCheckpoint.js';
import { evaluate, runWallSeconds, train } from '../train/trainer.js';
import { writeResultsPage } from './resultsPage.js';
import type { Study, StudyRun } from './studyRuns.js';

/** A finished run's record in its own folder. */
const resultFileOf = (run: StudyRun) => path.join(run.config.outputDir, 'study-result.json');

/** The settings a run's checkpoints were trained under, written before its first epoch. */
const startedFileOf = (run: StudyRun) => path.join(run.config.outputDir, 'study-settings.json');

/** What a run's figures depend on; paths are left out, so a moved checkout still reads its runs. */
function settingsOf(run: StudyRun): RunSettings {
  const { protocol, model, loss, training, dataset } = run.config;
  return {
    format: dataset.format,
    ...('size' in dataset ? { size: dataset.size } : {}),
    protocol,
    model,
    loss,
    training,
  };
}

/** JSON with object keys sorted, so the order of keys in a config does not count as a change. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Settings kept since a later version: a record written before has none, which is no change. */
const LATER_KEYS: readonly (keyof RunSettings)[] = ['size'];

/** The top-level settings that differ. */
function changedSettings(saved: RunSettings, current: RunSettings): string[] {
  return (Object.keys(current) as (keyof RunSettings)[]).filter(
    (key) =>
      !(LATER_KEYS.includes(key) && saved[key] === undefined) &&
      canonicalJson(saved[key]) !== canonicalJson(current[key]),
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
  const records = parseRecordJson(text, file, 'delete it to train every run again');
  if (!Array.isArray(records)) throw new ConfigError(`${file}: expected an array of run records`);
  return { file, records: validated(z.array(RunRecord), records, file), remedy };
}

function parseRecordJson(text: string, file: string, remedy: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not JSON (${(error as Error).message}); ${remedy}`);
  }
}

/** The value as written, once the schema accepts it: its keys keep their order, so a rewrite changes no line. */
function validated<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  validate(schema, value, file, 'run record');
  return value as T;
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

const isRecordOf = (record: RunRecord, run: StudyRun) =>
  record.id === run.id && record.protocol === run.protocol && record.bits === run.bits;

/** A file of the run's folder; none where it does not exist. */
async function readRunFile(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new ConfigError(`${file}: cannot read (${error.code ?? error.message})`);
  });
}

/**
 * The run's own record in its folder, else its first entry in the records files, under the study's
 * label (and change) for the run, which may have been renamed since. Refused where the run finished
 * under other settings than the study's now.
 */
async function savedRecord(run: StudyRun, committed: CommittedRecords[]): Promise<SavedRecord | undefined> {
  const found = await findRecord(run, committed);
  if (!found) return undefined;
  const { record, file, remedy } = found;
  // Records written before settings were kept cannot be checked.
  const changed = record.settings ? changedSettings(record.settings, settingsOf(run)) : [];
  if (changed.length > 0) {
    throw new ConfigError(
      `${file}: run ${run.config.name} finished under other settings (${changed.join(', ')} changed in the study); ${remedy}`,
    );
  }
  const { change: _, ...rest } = record;
  return { ...found, record: { ...rest, label: run.label, ...(run.change ? { change: run.change } : {}) } };
}

async function findRecord(run: StudyRun, committed: CommittedRecords[]): Promise<SavedRecord | undefined> {
  const file = resultFileOf(run);
  const text = await readRunFile(file);
  const remedy = `move ${run.config.outputDir} away to train it again`;
  if (text !== undefined) {
    const record = validated(RunRecord, parseRecordJson(text, file, remedy), file);
    return { record, file, remedy, hasCheckpoints: true };
  }
  for (const source of committed) {
    const record = source.records.find((r) => isRecordOf(r, run));
    if (record)
      return { record, file: source.file, remedy: `${source.remedy} to train it again`, hasCheckpoints: false };
  }
  return undefined;
}

/**
 * Refuses an unfinished run whose checkpoints were trained under other settings than the study's
 * now (runs started before settings were written cannot be checked).
 */
async function checkStartedSettings(run: StudyRun): Promise<void> {
  const file = startedFileOf(run);
  const text = await readRunFile(file);
  if (text === undefined) return;
  const remedy = `move ${run.config.outputDir} away to train it from scratch`;
  const changed = changedSettings(validated(RunSettings, parseRecordJson(text, file, remedy), file), settingsOf(run));
  if (changed.length > 0) {
    throw new ConfigError(
      `${file}: run ${run.config.name} was started under other settings (${changed.join(', ')} changed in the study); ${remedy}`,
    );
  }
}

/** Trains the run, resuming from its last checkpoint, with the settings it starts under kept beside them. */
async function trainRun(run: StudyRun): Promise<Awaited<ReturnType<typeof train>>> {
  const file = startedFileOf(run);
  if ((await readRunFile(file)) === undefined) await writeJsonAtomically(file, settingsOf(run));
  return train(run.config, { resume: true });
}

async function runOnce(run: StudyRun, saved: SavedRecord | undefined, log: (line: string) => void): Promise<RunRecord> {
  if (saved) {
    const { record, file } = saved;
    log(`${run.config.name}: finished earlier, read from ${file}`);
    return record.mapTieAveraged === undefined && saved.hasCheckpoints ? reevaluate(run, record, file, log) : record;
  }
  log(`${run.config.name}: training`);
  const result = await trainRun(run);
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
  await writeJsonAtomically(resultFileOf(run), record);
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
  await writeJsonAtomically(file, completed);
  return completed;
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(value));
  await rename(`${file}.tmp`, file);
}

export async function runStudy(study: Study, log: (line: string) => void = console.error): Promise<RunRecord[]> {
  const committed = await readCommittedRecords(study);
  // Every saved run is read (and a changed one refused) before any training, and runs finished
  // earlier stay on the page while the study works through the runs before them, so a restarted
  // study never writes a page (or records file) with fewer runs than it had.
  const saved = new Map<StudyRun, SavedRecord | undefined>();
  const finished = new Map<StudyRun, RunRecord>();
  for (const run of study.runs) {
    const found = await savedRecord(run, committed);
    saved.set(run, found);
    if (found) finished.set(run, found.record);
    else await checkStartedSettings(run);
  }
  const [own] = committed;
  const kept = own.records.filter((r) => !study.runs.some((run) => isRecordOf(r, run)));
  if (kept.length > 0) {
    log(`${own.file}: keeping ${kept.length} records of runs no longer in the study (off the page)`);
  }
  const inStudyOrder = () => study.runs.flatMap((run) => finished.get(run) ?? []);
  for (const run of study.runs) {
    finished.set(run, await runOnce(run, saved.get(run), log));
    await writeResultsPage(study, inStudyOrder(), kept);
  }
  log(`results: ${study.resultsFile}`);
  return inStudyOrder();
}
