// Runs a comparison study run by run (each resumable; a finished run is read back, not retrained)
// and rewrites the results page after every run, so a long study shows its progress.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../config.js';
import { runWallSeconds, train } from '../train/trainer.js';
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
    return record;
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
    map: result.metrics.map,
    topK: result.metrics.topK,
    precisionWithinRadius2: result.metrics.precisionWithinRadius2,
    parameters: result.parameters,
    imagesPerSecond: speeds.reduce((a, b) => a + b, 0) / Math.max(speeds.length, 1),
    wallSeconds: runWallSeconds(result),
    epochs: result.state.epoch,
    selectedEpoch: result.state.bestEpoch,
    backend: result.backend,
    curve: { precision: result.metrics.curve.precision, recall: result.metrics.curve.recall },
    settings: settingsOf(run),
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(record));
  await rename(`${file}.tmp`, file);
  return record;
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
