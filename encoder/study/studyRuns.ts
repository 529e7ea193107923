// The runs of a comparison study: every method x protocol x bit length, then the ablations, each as
// an ordinary TrainConfig (same dataset, budget and seed), with paths resolved against the study file.
import path from 'node:path';
import { type StudyConfig, StudyConfig as StudySchema } from '../../schemas/studyConfig.js';
import type { TrainConfig } from '../../schemas/trainConfig.js';
import { parseConfig, readJsonFile, validate } from '../config.js';

export interface StudyRun {
  id: string;
  label: string;
  /** Set for ablations: what the run changes. */
  change?: string;
  protocol: TrainConfig['protocol'];
  bits: number;
  config: TrainConfig;
}

export interface Study {
  /** The study file, as given. */
  file: string;
  config: StudyConfig;
  runs: StudyRun[];
  /** The results page, resolved. */
  resultsFile: string;
  /**
   * Beside the page, every finished run's record (`<page>.records.json`), committed with it: a fresh
   * checkout reads finished runs back from it instead of training them again.
   */
  recordsFile: string;
  /** Other studies' records files to read finished runs back from (`recordsFrom`), resolved. */
  borrowedRecordsFiles: string[];
}

export async function loadStudy(file: string): Promise<Study> {
  const study = validate(StudySchema, await readJsonFile(file), file);
  const run = (
    m: StudyConfig['methods'][number] & { change?: string },
    protocol: TrainConfig['protocol'],
    bits: number,
  ): StudyRun => {
    const name = `${m.id}-${protocol}-${bits}`;
    const config = parseConfig(
      {
        name,
        dataset: study.dataset,
        protocol,
        model: { architecture: m.architecture, bits, options: m.options },
        loss: m.loss,
        training: { ...study.training, ...study.protocolBudgets[protocol] },
        cacheDir: study.cacheDir,
        outputDir: path.join(study.outputDir, name),
      },
      file,
    );
    return { id: m.id, label: m.label, ...(m.change ? { change: m.change } : {}), protocol, bits, config };
  };
  const runs = study.protocols.flatMap((protocol) =>
    study.bits.flatMap((bits) => study.methods.map((m) => run(m, protocol, bits))),
  );
  runs.push(...study.ablations.map((a) => run(a, a.protocol, a.bits)));
  const dir = path.dirname(path.resolve(file));
  const resultsFile = path.resolve(dir, study.results);
  const recordsFile = `${resultsFile.replace(/\.md$/, '')}.records.json`;
  const borrowedRecordsFiles = study.recordsFrom.map((f) => path.resolve(dir, f));
  return { file, config: study, runs, resultsFile, recordsFile, borrowedRecordsFiles };
}
