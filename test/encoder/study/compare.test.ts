// A comparison study end to end on tiny synthetic CIFAR data: every method and ablation trains under
// the same budget, the results page holds the table, the ablations and the PR plots, and a second
// run reads finished runs back (from their folders, or in a fresh checkout from the records committed
// with the page) instead of training them again.
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../encoder/config.js';
import { resultsMarkdown } from '../../../encoder/study/resultsPage.js';
import { runStudy } from '../../../encoder/study/runStudy.js';
import { loadStudy } from '../../../encoder/study/studyRuns.js';
import type { RunRecord } from '../../../schemas/studyRecord.js';
import { writeSyntheticCifar } from '../../support/syntheticCifar.js';

let dir: string;
let studyFile: string;

const study = {
  name: 'tiny-study',
  dataset: { format: 'cifar10-binary', root: 'cifar' },
  outputDir: 'runs',
  training: {
    epochs: 1,
    batchSize: 32,
    learningRate: 0.005,
    backend: 'cpu',
    workers: 1,
    validationPerClass: 2,
    maxSteps: 2,
  },
  protocols: ['cifar10-2'],
  bits: [16],
  methods: [
    {
      id: 'csq',
      label: 'CNN + CSQ',
      architecture: 'cnnHash',
      options: { widths: [4], hidden: 0 },
      loss: { name: 'csq' },
    },
    { id: 'dah', label: 'DAH', architecture: 'dahNet', options: { widths: [4], hidden: 0 }, loss: { name: 'dah' } },
  ],
  ablations: [
    {
      id: 'dah-no-attention',
      label: 'DAH',
      change: 'attention off',
      protocol: 'cifar10-2',
      bits: 16,
      architecture: 'dahNet',
      options: { widths: [4], hidden: 0, attention: 'none' },
      loss: { name: 'dah' },
    },
  ],
  results: 'docs/results.md',
};

/** A finished run's record with made-up figures, for tests of the page alone. */
const fakeRecord = (
  r: Pick<RunRecord, 'id' | 'label' | 'protocol' | 'bits' | 'map'> & Partial<RunRecord>,
): RunRecord => ({
  topK: -1,
  precisionWithinRadius2: r.map,
  parameters: 1,
  imagesPerSecond: 1,
  wallSeconds: 1,
  epochs: 1,
  selectedEpoch: 1,
  backend: 'cpu',
  curve: { precision: [], recall: [] },
  ...r,
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgehash-study-'));
  await writeSyntheticCifar(path.join(dir, 'cifar'), 2);
  studyFile = path.join(dir, 'study.json');
  await writeFile(studyFile, JSON.stringify(study));
});

describe('edgehash compare', () => {
  it('derives one run per method, protocol and bit length, plus the ablations', async () => {
    const { runs, resultsFile } = await loadStudy(studyFile);
    expect(runs.map((r) => r.config.name)).toEqual([
      'csq-cifar10-2-16',
      'dah-cifar10-2-16',
      'dah-no-attention-cifar10-2-16',
    ]);
    expect(runs.every((r) => r.config.training.maxSteps === 2 && r.config.training.seed === 0)).toBe(true);
    expect(runs[0].config.outputDir).toBe(path.join(dir, 'runs/csq-cifar10-2-16'));
    expect(resultsFile).toBe(path.join(dir, 'docs/results.md'));
  });

  it('trains every run and writes the results page with tables, ablations and PR plots', async () => {
    const lines: string[] = [];
    const records = await runStudy(await loadStudy(studyFile), (l) => lines.push(l));
    expect(records).toHaveLength(3);
    for (const r of records) {
      expect(r.map).toBeGreaterThan(0);
      expect(r.parameters).toBeGreaterThan(0);
      // Wall time counts every epoch's training and validation from the run's state (so a resumed run
      // keeps its earlier epochs), plus the final evaluation.
      const state = JSON.parse(await readFile(path.join(dir, `runs/${r.id}-cifar10-2-16/state.json`), 'utf8'));
      const history = state.history as Array<{ seconds: number; validationSeconds?: number; validationMap?: number }>;
      expect(history.every((h) => (h.validationMap === undefined) === (h.validationSeconds === undefined))).toBe(true);
      const epochs = history.reduce((sum, h) => sum + h.seconds + (h.validationSeconds ?? 0), 0);
      expect(epochs).toBeGreaterThan(0);
      expect(r.wallSeconds).toBeGreaterThan(epochs);
    }
    const page = await readFile(path.join(dir, 'docs/results.md'), 'utf8');
    expect(page).toMatch(/## cifar10-2/);
    expect(page).toContain(`npx edgehash compare --study ${studyFile}\` (study \`tiny-study\`), 3 of 3 runs finished;`);
    expect(page).toMatch(/mAP@ALL \/ tie-averaged mAP@ALL \/ P@H<=2/);
    expect(page).toMatch(/\| CNN \+ CSQ \| \d+\.\d\d \/ \d+\.\d\d \/ \d+\.\d\d \|/);
    expect(records.every((r) => r.mapTieAveraged !== undefined && r.mapTieAveraged > 0)).toBe(true);
    expect(page).toMatch(/\| DAH \| attention off \| cifar10-2 \| 16 \|/);
    expect(page).toContain('](tiny-study-plots/cifar10-2-16-pr.svg)');
    const plot = await readFile(path.join(dir, 'docs/tiny-study-plots/cifar10-2-16-pr.svg'), 'utf8');
    expect(plot).toContain('CNN + CSQ');
    expect(plot).toContain('DAH');
  });

  it('reads finished runs back on a second run instead of training again', async () => {
    const lines: string[] = [];
    await runStudy(await loadStudy(studyFile), (l) => lines.push(l));
    expect(lines.filter((l) => l.includes('finished earlier'))).toHaveLength(3);
    expect(lines.some((l) => l.endsWith(': training'))).toBe(false);
  });

  it('keeps the later finished runs on the page while it trains an earlier run again', async () => {
    const again = await mkdtemp(path.join(tmpdir(), 'edgehash-study-again-'));
    await cp(path.join(dir, 'docs'), path.join(again, 'docs'), { recursive: true });
    await cp(path.join(dir, 'runs'), path.join(again, 'runs'), { recursive: true });
    await rm(path.join(again, 'runs/csq-cifar10-2-16'), { recursive: true });
    const recordsFile = path.join(again, 'docs/results.records.json');
    const committed = JSON.parse(await readFile(recordsFile, 'utf8')) as RunRecord[];
    await writeFile(recordsFile, JSON.stringify(committed.filter((r) => r.id !== 'csq')));
    const file = path.join(again, 'study.json');
    await writeFile(file, JSON.stringify({ ...study, dataset: { ...study.dataset, root: path.join(dir, 'cifar') } }));
    // The page is first written after csq, the first run, trains; dah is read back next.
    let idsAfterFirstRun: string[] = [];
    await runStudy(await loadStudy(file), (line) => {
      if (line.startsWith('dah-cifar10-2-16: finished earlier')) {
        idsAfterFirstRun = (JSON.parse(readFileSync(recordsFile, 'utf8')) as RunRecord[]).map((r) => r.id);
      }
    });
    expect(idsAfterFirstRun).toEqual(['csq', 'dah', 'dah-no-attention']);
  });

  it('reads finished runs back from the records committed with the page when their folders are gone', async () => {
    // A fresh checkout: the study file and docs/, no runs/.
    const fresh = await mkdtemp(path.join(tmpdir(), 'edgehash-study-checkout-'));
    await cp(path.join(dir, 'docs'), path.join(fresh, 'docs'), { recursive: true });
    const file = path.join(fresh, 'study.json');
    await writeFile(file, JSON.stringify({ ...study, dataset: { ...study.dataset, root: path.join(dir, 'cifar') } }));
    const recordsFile = path.join(fresh, 'docs/results.records.json');
    const committed = JSON.parse(await readFile(recordsFile, 'utf8')) as RunRecord[];
    expect(committed.map((r) => r.id)).toEqual(['csq', 'dah', 'dah-no-attention']);
    const lines: string[] = [];
    const records = await runStudy(await loadStudy(file), (l) => lines.push(l));
    expect(lines.filter((l) => l.endsWith(`finished earlier, read from ${recordsFile}`))).toHaveLength(3);
    expect(lines.some((l) => l.endsWith(': training'))).toBe(false);
    expect(records).toEqual(committed);
    const page = await readFile(path.join(fresh, 'docs/results.md'), 'utf8');
    expect(page).toContain('3 of 3 runs finished; their records are in `results.records.json`');

    const methods = study.methods.map((m) => (m.id === 'csq' ? { ...m, options: { widths: [8], hidden: 0 } } : m));
    await writeFile(file, JSON.stringify({ ...study, methods }));
    await expect(runStudy(await loadStudy(file), () => {})).rejects.toThrow(
      `${recordsFile}: run csq-cifar10-2-16 finished under other settings (model changed in the study); ` +
        `delete its record from ${recordsFile} to train it again`,
    );
    await writeFile(recordsFile, '{"not": "an array"}');
    await expect(runStudy(await loadStudy(file), () => {})).rejects.toThrow(
      `${recordsFile}: expected an array of run records`,
    );
    await writeFile(recordsFile, '[{');
    await expect(runStudy(await loadStudy(file), () => {})).rejects.toThrow(ConfigError);
    await expect(runStudy(await loadStudy(file), () => {})).rejects.toThrow(`${recordsFile}: not JSON`);
  });

  it("reads finished runs back from another study's records named in recordsFrom, and refuses a mismatch", async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'edgehash-study-borrow-'));
    const borrowed = path.join(dir, 'docs/results.records.json');
    const file = path.join(other, 'full.json');
    const full = { ...study, dataset: { ...study.dataset, root: path.join(dir, 'cifar') }, results: 'full.md' };
    await writeFile(file, JSON.stringify({ ...full, recordsFrom: [path.relative(other, borrowed)] }));
    const lines: string[] = [];
    const records = await runStudy(await loadStudy(file), (l) => lines.push(l));
    expect(lines.filter((l) => l.endsWith(`finished earlier, read from ${borrowed}`))).toHaveLength(3);
    expect(lines.some((l) => l.endsWith(': training'))).toBe(false);
    // The page's own records now hold them, so the next run finds them there first.
    expect(JSON.parse(await readFile(path.join(other, 'full.records.json'), 'utf8'))).toEqual(records);

    const methods = study.methods.map((m) => (m.id === 'dah' ? { ...m, options: { widths: [8], hidden: 0 } } : m));
    const changed = path.join(other, 'changed.json');
    await writeFile(changed, JSON.stringify({ ...full, methods, results: 'changed.md', recordsFrom: [borrowed] }));
    await expect(runStudy(await loadStudy(changed), () => {})).rejects.toThrow(
      `${borrowed}: run dah-cifar10-2-16 finished under other settings (model changed in the study); ` +
        `take results.records.json out of recordsFrom in ${changed} to train it again`,
    );
    await writeFile(changed, JSON.stringify({ ...full, results: 'changed.md', recordsFrom: ['missing.records.json'] }));
    await expect(runStudy(await loadStudy(changed), () => {})).rejects.toThrow(
      `${path.join(other, 'missing.records.json')}: cannot read run records (ENOENT)`,
    );
  });

  /** A fresh checkout of the study (docs/ and the study file, no runs/) in a new folder; its study file and records file. */
  async function freshCheckout(prefix: string, changes: Record<string, unknown> = {}) {
    const fresh = await mkdtemp(path.join(tmpdir(), prefix));
    await cp(path.join(dir, 'docs'), path.join(fresh, 'docs'), { recursive: true });
    const file = path.join(fresh, 'study.json');
    const dataset = { ...study.dataset, root: path.join(dir, 'cifar') };
    await writeFile(file, JSON.stringify({ ...study, dataset, ...changes }));
    return { fresh, file, recordsFile: path.join(fresh, 'docs/results.records.json') };
  }

  it('refuses a run finished under other settings before it trains any other, and keeps its record', async () => {
    const ablations = [{ ...study.ablations[0], options: { widths: [8], hidden: 0, attention: 'none' } }];
    const { file, recordsFile } = await freshCheckout('edgehash-study-refuse-', { ablations });
    // csq, the first run, has no record, so it would train first.
    const committed = (JSON.parse(await readFile(recordsFile, 'utf8')) as RunRecord[]).filter((r) => r.id !== 'csq');
    await writeFile(recordsFile, JSON.stringify(committed));
    const lines: string[] = [];
    await expect(runStudy(await loadStudy(file), (l) => lines.push(l))).rejects.toThrow(
      `${recordsFile}: run dah-no-attention-cifar10-2-16 finished under other settings (model changed in the study)`,
    );
    expect(lines).toEqual([]);
    expect(JSON.parse(await readFile(recordsFile, 'utf8'))).toEqual(committed);
  });

  it('keeps the records of runs a narrowed study leaves out, off its page', async () => {
    const { file, recordsFile } = await freshCheckout('edgehash-study-narrowed-', {
      methods: [study.methods[0]],
      ablations: [],
    });
    const committed = JSON.parse(await readFile(recordsFile, 'utf8')) as RunRecord[];
    const lines: string[] = [];
    const records = await runStudy(await loadStudy(file), (l) => lines.push(l));
    expect(records.map((r) => r.id)).toEqual(['csq']);
    expect(lines).toContain(`${recordsFile}: keeping 2 records of runs no longer in the study (off the page)`);
    expect(JSON.parse(await readFile(recordsFile, 'utf8'))).toEqual(committed);
    const page = await readFile(recordsFile.replace('.records.json', '.md'), 'utf8');
    expect(page).toContain('1 of 1 runs finished');
    expect(page).not.toContain('attention off');
  });

  it("shows a read-back run under the study's label for it now", async () => {
    const methods = study.methods.map((m) => (m.id === 'dah' ? { ...m, label: 'DAH (renamed)' } : m));
    const { file } = await freshCheckout('edgehash-study-relabel-', { methods });
    const records = await runStudy(await loadStudy(file), () => {});
    expect(records.map((r) => r.label)).toEqual(['CNN + CSQ', 'DAH (renamed)', 'DAH']);
    expect(records[2].change).toBe('attention off');
  });

  it('names the file and the field of a bad record, and of a run folder started under other settings', async () => {
    const { fresh, file, recordsFile } = await freshCheckout('edgehash-study-bad-record-');
    const committed = JSON.parse(await readFile(recordsFile, 'utf8')) as RunRecord[];
    await writeFile(recordsFile, JSON.stringify([{ ...committed[0], map: Number.NaN }]));
    await expect(runStudy(await loadStudy(file), () => {})).rejects.toThrow(
      new RegExp(`^${recordsFile}: invalid run record\n {2}0.map: `),
    );
    await writeFile(recordsFile, JSON.stringify(committed.filter((r) => r.id !== 'csq')));
    const runDir = path.join(fresh, 'runs/csq-cifar10-2-16');
    await cp(path.join(dir, 'runs/csq-cifar10-2-16'), runDir, { recursive: true });
    await writeFile(path.join(runDir, 'study-result.json'), '{"id": "csq",');
    await expect(runStudy(await loadStudy(file), () => {})).rejects.toThrow(
      `${path.join(runDir, 'study-result.json')}: not JSON`,
    );
    // An interrupted run: checkpoints and the settings they were trained under, no result yet.
    await rm(path.join(runDir, 'study-result.json'));
    const started = JSON.parse(await readFile(path.join(runDir, 'study-settings.json'), 'utf8'));
    expect(started.model).toEqual({ architecture: 'cnnHash', bits: 16, options: { widths: [4], hidden: 0 } });
    await writeFile(path.join(runDir, 'study-settings.json'), JSON.stringify({ ...started, loss: { name: 'dpn' } }));
    const lines: string[] = [];
    await expect(runStudy(await loadStudy(file), (l) => lines.push(l))).rejects.toThrow(
      `${path.join(runDir, 'study-settings.json')}: run csq-cifar10-2-16 was started under other settings ` +
        `(loss changed in the study); move ${runDir} away to train it from scratch`,
    );
    // Refused before any run trains.
    expect(lines).toEqual([]);
  });

  it('completes a record from before the tie-averaged mAP from its selected checkpoint, without training', async () => {
    const file = path.join(dir, 'runs/dah-cifar10-2-16/study-result.json');
    const finished = JSON.parse(await readFile(file, 'utf8')) as RunRecord;
    const { mapTieAveraged, ...old } = finished;
    await writeFile(file, JSON.stringify(old));
    const lines: string[] = [];
    const records = await runStudy(await loadStudy(studyFile), (l) => lines.push(l));
    expect(lines.filter((l) => l.includes('evaluating the selected checkpoint again'))).toEqual([
      'dah-cifar10-2-16: evaluating the selected checkpoint again for the tie-averaged mAP',
    ]);
    expect(lines.some((l) => l.endsWith(': training'))).toBe(false);
    const dah = records.find((r) => r.id === 'dah')!;
    expect(dah.mapTieAveraged).toBeCloseTo(mapTieAveraged!, 12);
    expect(dah.map).toBeCloseTo(finished.map, 12);
    expect(JSON.parse(await readFile(file, 'utf8')).mapTieAveraged).toBeCloseTo(mapTieAveraged!, 12);
  });

  it('refuses to read back a run whose settings the study has changed since, naming them', async () => {
    // Reordered keys are no change.
    const reordered = path.join(dir, 'reordered.json');
    const flipped = study.methods.map((m) => (m.id === 'csq' ? { ...m, options: { hidden: 0, widths: [4] } } : m));
    await writeFile(reordered, JSON.stringify({ ...study, methods: flipped }));
    await expect(runStudy(await loadStudy(reordered), () => {})).resolves.toHaveLength(3);
    const changed = path.join(dir, 'changed.json');
    const methods = study.methods.map((m) =>
      m.id === 'dah' ? { ...m, loss: { name: 'dah', options: { margin: 4 } } } : m,
    );
    await writeFile(changed, JSON.stringify({ ...study, methods }));
    await expect(runStudy(await loadStudy(changed), () => {})).rejects.toThrow(
      /runs\/dah-cifar10-2-16\/study-result.json: run dah-cifar10-2-16 finished under other settings \(loss changed in the study\); move .*runs\/dah-cifar10-2-16 away/,
    );
  });

  it("states the subject's margin over the best other method, and ends with the study's notes", async () => {
    const file = path.join(dir, 'subject.json');
    const notes = ['DAH trails because of X.', 'Second paragraph.'];
    await writeFile(file, JSON.stringify({ ...study, bits: [16, 32], subject: 'dah', notes }));
    const loaded = await loadStudy(file);
    const record = (id: string, label: string, bits: number, map: number, mapTieAveraged?: number) =>
      fakeRecord({
        id,
        label,
        protocol: 'cifar10-2',
        bits,
        map,
        ...(mapTieAveraged === undefined ? {} : { mapTieAveraged }),
      });
    const page = resultsMarkdown(
      loaded,
      [
        record('csq', 'CNN + CSQ', 16, 0.5, 0.3),
        record('dah', 'DAH', 16, 0.3875, 0.325),
        record('csq', 'CNN + CSQ', 32, 0.4),
        record('dah', 'DAH', 32, 0.425),
      ],
      new Map(),
    );
    expect(page).toContain(
      '- 16 bits: best CNN + CSQ (mAP@ALL 50.00). DAH, at 38.75, falls short of it by 11.25 points. ' +
        'Tie-averaged: 32.50, 2.50 points ahead of the best other method, CNN + CSQ (30.00).',
    );
    expect(page).toContain(
      '- 32 bits: best DAH (mAP@ALL 42.50). DAH leads the best other method, CNN + CSQ, by 2.50 points.',
    );
    const partial = resultsMarkdown(
      loaded,
      [record('csq', 'CNN + CSQ', 16, 0.5, 0.3), record('dah', 'DAH', 16, 0.3875), record('csq', 'CNN + CSQ', 32, 0.4)],
      new Map(),
    );
    expect(partial).toContain('- 32 bits (1 of 2 methods run so far): best CNN + CSQ (mAP@ALL 40.00).\n');
    const tied = resultsMarkdown(
      loaded,
      [record('csq', 'CNN + CSQ', 16, 0.5, 0.3), record('dah', 'DAH', 16, 0.5, 0.3)],
      new Map(),
    );
    expect(tied).toContain(
      '- 16 bits: best CNN + CSQ and DAH (mAP@ALL 50.00). DAH ties with the best ' +
        'other method, CNN + CSQ. Tie-averaged: 30.00, level with the best other method, CNN + CSQ (30.00).',
    );
    expect(partial).toContain('- 16 bits: best CNN + CSQ');
    expect(partial).toMatch(/\| DAH \| 38\.75 \/ - \/ 38\.75 \| not run \| 1 \(at 16 bits\) \|/);
    expect(page.endsWith('## Notes\n\nDAH trails because of X.\n\nSecond paragraph.\n\n')).toBe(true);
    expect(page).toContain(
      'learning rate 0.005 (cosine), seed 0, augmentation: random crop (4-pixel zero padding) + horizontal flip',
    );
    await writeFile(file, JSON.stringify({ ...study, training: { ...study.training, weightDecay: 0.05 } }));
    expect(resultsMarkdown(await loadStudy(file), [], new Map())).toContain(
      'learning rate 0.005 (cosine), AdamW with weight decay 0.05, seed 0',
    );
    const sgd = { ...study.training, optimizer: 'sgd', momentum: 0.85 };
    await writeFile(file, JSON.stringify({ ...study, training: sgd }));
    expect(resultsMarkdown(await loadStudy(file), [], new Map())).toContain(
      'learning rate 0.005 (cosine), SGD with Nesterov momentum 0.85, seed 0',
    );
    await writeFile(file, JSON.stringify({ ...study, subject: 'nope' }));
    await expect(loadStudy(file)).rejects.toThrow(/subject: subject must be the id of one of the methods/);
  });

  it('gives a protocol its own epochs under protocolBudgets, the same for every method, and says so on the page', async () => {
    const file = path.join(dir, 'budgets.json');
    const training = { ...study.training, epochs: 30, warmupEpochs: 3 };
    const protocolBudgets = { 'cifar10-2': { epochs: 10, warmupEpochs: 2 } };
    await writeFile(
      file,
      JSON.stringify({ ...study, training, protocols: ['cifar10-1', 'cifar10-2'], protocolBudgets }),
    );
    const loaded = await loadStudy(file);
    const budgets = loaded.runs.map((r) => [r.config.name, r.config.training.epochs, r.config.training.warmupEpochs]);
    expect(budgets).toEqual([
      ['csq-cifar10-1-16', 30, 3],
      ['dah-cifar10-1-16', 30, 3],
      ['csq-cifar10-2-16', 10, 2],
      ['dah-cifar10-2-16', 10, 2],
      ['dah-no-attention-cifar10-2-16', 10, 2],
    ]);
    expect(loaded.runs.every((r) => r.config.training.batchSize === 32 && r.config.training.seed === 0)).toBe(true);
    const record = (protocol: RunRecord['protocol']) =>
      fakeRecord({ id: 'csq', label: 'CNN + CSQ', protocol, bits: 16, map: 0.5, mapTieAveraged: 0.5 });
    const page = resultsMarkdown(loaded, [record('cifar10-1'), record('cifar10-2')], new Map());
    expect(page).toContain('Every method has the same budget on a protocol (given under its heading);');
    expect(page).toContain('## cifar10-1\n\nBudget: 30 epochs, batch 32, learning rate 0.005 (3-epoch warmup, cosine)');
    expect(page).toContain('## cifar10-2\n\nBudget: 10 epochs, batch 32, learning rate 0.005 (2-epoch warmup, cosine)');

    await writeFile(file, JSON.stringify({ ...study, protocolBudgets: { 'cifar10-2': { epoch: 10 } } }));
    await expect(loadStudy(file)).rejects.toThrow(/protocolBudgets.cifar10-2: Unrecognized key: "epoch"/);
  });

  it('names the file and the field of a bad study', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...study, bits: [12] }));
    await expect(loadStudy(bad)).rejects.toThrow(ConfigError);
    await expect(loadStudy(bad)).rejects.toThrow(/bad.json: invalid config\n {2}bits.0:/);
    await writeFile(bad, JSON.stringify({ ...study, bits: [16, 32, 16], protocols: ['cifar10-2', 'cifar10-2'] }));
    await expect(loadStudy(bad)).rejects.toThrow(
      /bad.json: invalid config\n {2}protocols: each entry once\n {2}bits: each entry once/,
    );
  });
});
