// Runs a comparison study run by run (each resumable; a finished run is read back, not retrained)
// and rewrites the results page after every run, so a long study shows its progress.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../config.js';
import type { RetrievalMetrics } from '../eval/retrieval.js';
import { withRunEncoder } from '../train/runEngine.js';
import { restoreRun } from '../train/runWithCheckpoint.js';
import { evaluate, runWallSeconds, train } from '../train/trainer.js';
import { type RunRecord, type RunSettings, writeResultsPage } from './resultsPage.js';
import type { Study, StudyRun } from './studyRuns.js';

const RESULT_FILE = 'study-result.json';

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

async function runOnce(run: StudyRun, log: (line: string) => void): Promise<RunRecord> {
  const file = path.join(run.config.outputDir, RESULT_FILE);
  const saved = await readFile(file, 'utf8').catch(() => undefined);
  if (saved) {
    const record = JSON.parse(saved) as RunRecord;
    // Records written before settings were kept cannot be checked; they are read as they are.
    const changed = record.settings ? changedSettings(record.settings, settingsOf(run)) : [];
    if (changed.length > 0) {
      throw new ConfigError(
        `${file}: this run finished under other settings (${changed.join(', ')} changed in the study); ` +
          `move ${run.config.outputDir} away to train it again`,
      );
    }
    log(`${run.config.name}: finished earlier, read from ${file}`);
    return record.mapTieAveraged === undefined ? reevaluate(run, record, file, log) : record;
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
  await writeRecord(file, record);
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
  const records: RunRecord[] = [];
  for (const run of study.runs) {
    records.push(await runOnce(run, log));
    await writeResultsPage(study, records);
  }
  log(`results: ${study.resultsFile}`);
  return records;
}
