// Runs a comparison study run by run (each resumable; a finished run is read back, not retrained)
// and rewrites the results page after every run, so a long study shows its progress.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runWallSeconds, train } from '../train/trainer.js';
import { type RunRecord, writeResultsPage } from './resultsPage.js';
import type { Study, StudyRun } from './studyRuns.js';

const RESULT_FILE = 'study-result.json';

async function runOnce(run: StudyRun, log: (line: string) => void): Promise<RunRecord> {
  const file = path.join(run.config.outputDir, RESULT_FILE);
  const saved = await readFile(file, 'utf8').catch(() => undefined);
  if (saved) {
    log(`${run.config.name}: finished earlier, read from ${file}`);
    return JSON.parse(saved) as RunRecord;
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
